package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place HTTP failures become {@code {"error","message"}} bodies with their status. */
final class HttpErrors {
    private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

    private HttpErrors() {}

    static void send(RoutingContext ctx, ChatMetrics metrics, Throwable err) {
        ErrorCode code;
        String message;
        if (err instanceof ChatException ce) {
            code = ce.code();
            message = ce.getMessage();
        } else if (err instanceof io.vertx.ext.web.handler.HttpException he && he.getStatusCode() == 413) {
            code = ErrorCode.TOO_LARGE;
            message = "request body too large";
        } else if (err instanceof io.vertx.core.json.DecodeException || err instanceof ClassCastException) {
            code = ErrorCode.BAD_REQUEST;
            message = "the body must be a JSON object with the documented fields";
        } else {
            // The path only: a query string could hold a token.
            log.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), err);
            code = ErrorCode.INTERNAL;
            message = "unexpected server error";
        }
        metrics.error(code);
        write(ctx, code.httpStatus, code.wire(), message);
    }

    static void write(RoutingContext ctx, int status, String code, String message) {
        if (ctx.response().ended()) return;
        ctx.response().setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new JsonObject().put("error", code).put("message", message).encode());
    }
}

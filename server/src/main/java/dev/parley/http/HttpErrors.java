package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.metrics.ChatMetrics;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place HTTP failures become {@code {"error","message"}} bodies with their status: the
 * status is always the {@link ErrorCode}'s own, so that a 405 says {@code method_not_allowed}.
 */
public final class HttpErrors {
    private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

    private HttpErrors() {}

    static void send(RoutingContext ctx, ChatMetrics metrics, Throwable err) {
        ErrorCode code;
        String message;
        if (err instanceof ChatException ce) {
            code = ce.code();
            message = ce.getMessage();
            // RFC 9110 10.2.3: with a 429 or a 503, how long to wait; a client backs off by it.
            if (ce.retryAfterSeconds() > 0 && !ctx.response().headWritten()) {
                ctx.response().putHeader("Retry-After", Long.toString(ce.retryAfterSeconds()));
            }
        } else if (err instanceof HttpException he && forStatus(he.getStatusCode()) != null) {
            code = forStatus(he.getStatusCode());
            message = defaultMessage(code);
        } else if (err instanceof DecodeException || err instanceof ClassCastException) {
            code = ErrorCode.BAD_REQUEST;
            message = "the body must be a JSON object with the documented fields";
        } else {
            // The path only: a query string could hold a token.
            log.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), err);
            code = ErrorCode.INTERNAL;
            message = "unexpected server error";
        }
        refuse(ctx.response(), metrics, code, message);
    }

    /** Answers with the code's status and the error body, and counts it; nothing if an answer has begun. */
    public static void refuse(HttpServerResponse response, ChatMetrics metrics, ErrorCode code, String message) {
        if (response.ended() || response.headWritten()) return;
        metrics.error(code.wire());
        response.setStatusCode(code.httpStatus)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new JsonObject().put("error", code.wire()).put("message", message).encode());
    }

    /** The router's own refusals (no route, wrong method, body too large, unparsable request), by status. */
    static void routerRefusals(Router router, ChatMetrics metrics) {
        for (int status : new int[] {400, 404, 413}) {
            ErrorCode code = forStatus(status);
            router.errorHandler(status, ctx -> refuse(ctx.response(), metrics, code, defaultMessage(code)));
        }
        // The router answers 405 only outside /api/ (whose paths ApiRoutes checks itself), where every
        // route takes GET and HEAD; it does not say so by itself, and a 405 must (RFC 9110, 15.5.6).
        router.errorHandler(405, ctx -> {
            if (!ctx.response().headers().contains(HttpHeaders.ALLOW)) ctx.response().putHeader(HttpHeaders.ALLOW, "GET, HEAD");
            refuse(ctx.response(), metrics, ErrorCode.METHOD_NOT_ALLOWED, defaultMessage(ErrorCode.METHOD_NOT_ALLOWED));
        });
        router.errorHandler(500, ctx -> send(ctx, metrics, ctx.failure()));
    }

    /**
     * For requests Netty's decoder could not read, which never reach the router (Vert.x's
     * invalid-request handler): Vert.x's own answers, 414 for a request line too long, 431 for headers
     * too large and 400 otherwise, with the error body; the connection is closed after, as Vert.x
     * does, since what follows on it cannot be trusted.
     */
    public static Handler<HttpServerRequest> invalidRequests(ChatMetrics metrics) {
        return req -> {
            Throwable cause = req.decoderResult().cause();
            ErrorCode code = cause instanceof TooLongHttpLineException ? ErrorCode.URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? ErrorCode.HEADERS_TOO_LARGE
                    : ErrorCode.BAD_REQUEST;
            refuse(req.response(), metrics, code, defaultMessage(code));
            req.connection().close();
        };
    }

    /** The code of an HTTP status the router or Vert.x answers by itself, or null. */
    static ErrorCode forStatus(int status) {
        return switch (status) {
            case 400 -> ErrorCode.BAD_REQUEST;
            case 404 -> ErrorCode.NOT_FOUND;
            case 405 -> ErrorCode.METHOD_NOT_ALLOWED;
            case 413 -> ErrorCode.TOO_LARGE;
            case 414 -> ErrorCode.URI_TOO_LONG;
            case 431 -> ErrorCode.HEADERS_TOO_LARGE;
            default -> null;
        };
    }

    private static String defaultMessage(ErrorCode code) {
        return switch (code) {
            case NOT_FOUND -> "no such resource";
            case METHOD_NOT_ALLOWED -> "method not allowed";
            case TOO_LARGE -> "request body too large";
            case URI_TOO_LONG -> "request line too long";
            case HEADERS_TOO_LARGE -> "request headers too large";
            default -> "bad request";
        };
    }

    /** The request body as a JSON object, or null once a 400 has been sent: the one reading of JSON bodies of the routes. */
    static JsonObject jsonBody(RoutingContext ctx, ChatMetrics metrics) {
        JsonObject body;
        try {
            body = ctx.body().asJsonObject();
        } catch (RuntimeException e) {
            body = null;
        }
        if (body == null) send(ctx, metrics, ChatException.badRequest("the body must be a JSON object"));
        return body;
    }
}

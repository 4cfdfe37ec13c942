package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.Search;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

import static java.util.Objects.requireNonNull;

/** {@code GET /api/search} (PROTOCOL.md 3.7): a page of the messages matching a query, with a {@code Link} to the next. */
final class SearchRoutes {
    private final Search search;
    private final ChatMetrics metrics;

    SearchRoutes(Search search, ChatMetrics metrics) {
        this.search = requireNonNull(search, "search");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        HttpRoutes.getOrHead(router, "/api/search").handler(this::search);
    }

    private void search(RoutingContext ctx) {
        String q = ctx.request().getParam("q"), room = ctx.request().getParam("room"), cursor = ctx.request().getParam("cursor");
        Integer limit;
        try {
            limit = limit(ctx.request().getParam("limit"));
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        ApiRoutes.reply(ctx, metrics, 200, search.search(ctx.get(ApiRoutes.USER), q, room, cursor, limit).map(page -> {
            if (page.next() != null) {
                StringBuilder next = new StringBuilder("/api/search?q=").append(encode(q));
                if (room != null) next.append("&room=").append(encode(room));
                if (limit != null) next.append("&limit=").append(limit);
                next.append("&cursor=").append(encode(page.next()));
                ctx.response().putHeader("Link", "<" + next + ">; rel=\"next\"");
            }
            JsonArray results = new JsonArray();
            for (Search.Hit hit : page.hits()) {
                JsonArray marks = new JsonArray();
                for (int[] h : hit.highlights()) marks.add(new JsonArray().add(h[0]).add(h[1]));
                results.add(ApiRoutes.messageJson(hit.message()).put("highlights", marks));
            }
            return new JsonObject().put("results", results).put("next", page.next());
        }));
    }

    private static Integer limit(String raw) {
        if (raw == null) return null;
        try {
            return (int) Math.clamp(Long.parseLong(raw.trim()), Integer.MIN_VALUE, Integer.MAX_VALUE);
        } catch (NumberFormatException e) {
            throw ChatException.badRequest("limit must be an integer");
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}

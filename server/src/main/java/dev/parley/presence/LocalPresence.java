package dev.parley.presence;

import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Presence of a single node, in memory. Choose it with the in-process broker; a cluster needs {@code RedisPresence}. */
public final class LocalPresence implements Presence {
    private final ConcurrentHashMap<String, Map<String, Integer>> rooms = new ConcurrentHashMap<>();

    @Override
    public void start() {}

    @Override
    public Future<Boolean> join(String room, String user) {
        boolean[] first = {false};
        rooms.compute(room, (r, users) -> {
            Map<String, Integer> u = users == null ? new HashMap<>() : users;
            first[0] = u.merge(user, 1, Integer::sum) == 1;
            return u;
        });
        return Future.succeededFuture(first[0]);
    }

    @Override
    public Future<Boolean> leave(String room, String user) {
        boolean[] last = {false};
        rooms.computeIfPresent(room, (r, users) -> {
            Integer n = users.get(user);
            if (n == null) return users;
            if (n <= 1) {
                users.remove(user);
                last[0] = true;
            } else {
                users.put(user, n - 1);
            }
            return users.isEmpty() ? null : users;
        });
        return Future.succeededFuture(last[0]);
    }

    @Override
    public Future<List<String>> members(String room) {
        List<String> out = new ArrayList<>();
        rooms.computeIfPresent(room, (r, users) -> {
            out.addAll(users.keySet());
            return users;
        });
        Collections.sort(out);
        return Future.succeededFuture(out);
    }

    @Override
    public Future<Map<String, Integer>> counts(Collection<String> names) {
        Map<String, Integer> out = new HashMap<>();
        for (String room : names) {
            rooms.computeIfPresent(room, (r, users) -> {
                out.put(r, users.size());
                return users;
            });
        }
        return Future.succeededFuture(out);
    }

    @Override
    public boolean healthy() {
        return true;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}

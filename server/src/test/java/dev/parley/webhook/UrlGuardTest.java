package dev.parley.webhook;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which addresses and URLs a webhook may call (SSRF): each class of address refused, and the form of a URL. No DNS: literals, and lookups a test answers. */
class UrlGuardTest {
    @Test
    void loopback_private_link_local_shared_and_reserved_addresses_are_not_public() throws Exception {
        for (String a : new String[]{"127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254",
                "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1",
                "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                "64:ff9b::a9fe:a9fe", "::7f00:1"}) {
            assertThat(UrlGuard.isPublic(InetAddress.getByName(a))).as(a).isFalse();
        }
    }

    @Test
    void public_addresses_are() throws Exception {
        for (String a : new String[]{"8.8.8.8", "1.1.1.1", "203.0.113.7", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"}) {
            assertThat(UrlGuard.isPublic(InetAddress.getByName(a))).as(a).isTrue();
        }
    }

    @Test
    void a_url_must_be_http_or_https_with_a_host_and_no_credentials() throws Exception {
        assertThat(UrlGuard.parse("https://203.0.113.7:8443/hook?x=1").getPort()).isEqualTo(8443);
        for (String url : new String[]{"", "ftp://a.example/", "gopher://a.example/", "javascript:alert(1)", "https:///x", "https://u:p@a.example/",
                "https://a.example/#frag", "http://a.example/" + "x".repeat(UrlGuard.MAX_LENGTH)}) {
            assertThatThrownBy(() -> UrlGuard.parse(url)).as(url).isInstanceOf(UrlGuard.Refused.class);
        }
    }

    @Test
    void private_addresses_pass_only_when_allowed() throws Exception {
        assertThatThrownBy(() -> new UrlGuard(false, "test").check("http://127.0.0.1:9/hook")).isInstanceOf(UrlGuard.Refused.class)
                .hasMessageContaining("CHAT_WEBHOOK_ALLOW_PRIVATE");
        assertThat(new UrlGuard(true, "test").check("http://127.0.0.1:9/hook").getHost()).isEqualTo("127.0.0.1");
        assertThat(new UrlGuard(false, "test").check("https://203.0.113.7/hook").getHost()).isEqualTo("203.0.113.7");
    }

    @Test
    void a_host_that_does_not_resolve_in_time_is_refused_and_the_caller_freed() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        UrlGuard guard = new UrlGuard(false, "test", host -> {
            never.await(); // a name server that never answers
            return new InetAddress[0];
        }, Duration.ofMillis(200), 2);
        try {
            assertThatThrownBy(() -> guard.check("https://slow.example/hook")).isInstanceOf(UrlGuard.Refused.class)
                    .isNotInstanceOf(UrlGuard.Busy.class).hasMessage("url: the host slow.example did not resolve within 200 ms");
        } finally {
            never.countDown();
        }
    }

    @Test
    void a_host_that_timed_out_is_refused_at_once_without_another_lookup() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();
        UrlGuard guard = new UrlGuard(false, "test", host -> {
            lookups.incrementAndGet();
            never.await();
            return new InetAddress[0];
        }, Duration.ofMillis(100), 2);
        try {
            assertThatThrownBy(() -> guard.check("https://slow.example/a")).hasMessageContaining("did not resolve within 100 ms");
            assertThatThrownBy(() -> guard.check("https://SLOW.example/b")).isNotInstanceOf(UrlGuard.Busy.class)
                    .hasMessageContaining("not tried again for a minute");
            assertThat(lookups.get()).as("the second check held no thread").isEqualTo(1);
        } finally {
            never.countDown();
        }
    }

    @Test
    void lookups_past_the_threads_are_refused_as_busy_at_once() throws Exception {
        CountDownLatch started = new CountDownLatch(2), release = new CountDownLatch(1);
        UrlGuard guard = new UrlGuard(false, "test", host -> {
            started.countDown();
            release.await();
            return new InetAddress[]{InetAddress.getByName("93.184.215.14")};
        }, Duration.ofSeconds(30), 2);
        List<Thread> callers = new ArrayList<>();
        List<Object> outcomes = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                try {
                    outcomes.add(guard.check("https://held.example/hook").getHost());
                } catch (UrlGuard.Refused e) {
                    outcomes.add(e);
                }
            });
            t.start();
            callers.add(t);
        }
        started.await();
        assertThatThrownBy(() -> guard.check("https://third.example/hook")).isInstanceOf(UrlGuard.Busy.class)
                .hasMessageContaining("too many host names");
        release.countDown();
        for (Thread t : callers) t.join();
        assertThat(outcomes).containsExactly("held.example", "held.example");
    }

    @Test
    void a_host_with_no_address_is_refused() {
        UrlGuard guard = new UrlGuard(false, "test", host -> {
            throw new UnknownHostException(host);
        }, Duration.ofSeconds(5), 1);
        assertThatThrownBy(() -> guard.check("https://nowhere.example/hook")).isInstanceOf(UrlGuard.Refused.class)
                .hasMessage("url: the host nowhere.example has no address");
    }
}

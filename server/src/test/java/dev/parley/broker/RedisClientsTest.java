package dev.parley.broker;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisClientsTest {
    @Test
    void a_plain_url_names_one_server() {
        RedisClients.Target t = RedisClients.Target.parse("redis://:pw@cache:6380/2");
        assertThat(t.kind()).isEqualTo(RedisClients.Kind.STANDALONE);
        assertThat(t.uris()).singleElement().satisfies(u -> {
            assertThat(u.getHost()).isEqualTo("cache");
            assertThat(u.getPort()).isEqualTo(6380);
            assertThat(u.getDatabase()).isEqualTo(2);
            assertThat(new String(u.getPassword())).isEqualTo("pw");
        });
    }

    @Test
    void a_sentinel_url_names_the_sentinels_and_the_master() {
        RedisClients.Target t = RedisClients.Target.parse("redis-sentinel://s1:26379,s2:26380/0#mymaster");
        assertThat(t.kind()).isEqualTo(RedisClients.Kind.SENTINEL);
        RedisURI u = t.uris().getFirst();
        assertThat(u.getSentinelMasterId()).isEqualTo("mymaster");
        assertThat(u.getSentinels()).extracting(RedisURI::getHost, RedisURI::getPort)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("s1", 26379), org.assertj.core.groups.Tuple.tuple("s2", 26380));
        assertThatThrownBy(() -> RedisClients.Target.parse("redis-sentinel://s1:26379"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names its master after '#'");
    }

    @Test
    void a_cluster_url_gives_every_seed_the_same_credentials_and_options() {
        RedisClients.Target t = RedisClients.Target.parse("rediss-cluster://parley:s3cret@c1:7000, c2:7001,c3?verifyPeer=CA");
        assertThat(t.kind()).isEqualTo(RedisClients.Kind.CLUSTER);
        assertThat(t.uris()).extracting(RedisURI::getHost, RedisURI::getPort).containsExactly(
                org.assertj.core.groups.Tuple.tuple("c1", 7000), org.assertj.core.groups.Tuple.tuple("c2", 7001),
                org.assertj.core.groups.Tuple.tuple("c3", RedisURI.DEFAULT_REDIS_PORT));
        for (RedisURI u : t.uris()) {
            assertThat(u.getUsername()).isEqualTo("parley");
            assertThat(new String(u.getPassword())).isEqualTo("s3cret");
            assertThat(u.isSsl()).isTrue();
            assertThat(u.getVerifyMode()).isEqualTo(SslVerifyMode.CA);
        }
        assertThat(RedisClients.Target.parse("redis-cluster://c1:7000/").uris()).singleElement().satisfies(u -> assertThat(u.isSsl()).isFalse());
    }

    @Test
    void a_url_of_no_known_form_is_refused_without_showing_its_password() {
        assertThatThrownBy(() -> RedisClients.Target.parse("http://:hunter2@cache:6379"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster://")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
        assertThatThrownBy(() -> RedisClients.Target.parse("redis-cluster://:hunter2@c1:7000,,c2:7000"))
                .hasMessageContaining("an empty host").satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
        assertThatThrownBy(() -> RedisClients.Target.parse("redis-cluster://c1:7000/3")).hasMessageContaining("no /db in a cluster URL");
    }
}

package dev.parley.webhook;

import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** The X-Parley-Signature header, exactly as PROTOCOL.md describes it: a receiver's own HMAC agrees. */
class SignatureTest {
    private static final byte[] BODY = "{\"id\":\"01J\",\"type\":\"message\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void the_header_is_t_and_v1_the_hex_hmac_sha256_of_t_dot_body_keyed_with_the_secret() throws Exception {
        String secret = Signature.newSecret();
        assertThat(secret).matches("whsec_[0-9a-f]{64}");
        String header = Signature.header(secret, 1_796_000_000L, BODY);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = HexFormat.of().formatHex(mac.doFinal(("1796000000." + new String(BODY, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
        assertThat(header).isEqualTo("t=1796000000,v1=" + expected);
    }

    @Test
    void verification_refuses_another_secret_a_changed_body_an_old_time_and_a_malformed_header() {
        String secret = Signature.newSecret();
        String header = Signature.header(secret, 1_000_000, BODY);
        assertThat(Signature.verify(secret, header, BODY, 1_000_100, 300)).isTrue();
        assertThat(Signature.verify(Signature.newSecret(), header, BODY, 1_000_100, 300)).isFalse();
        assertThat(Signature.verify(secret, header, "{}".getBytes(StandardCharsets.UTF_8), 1_000_100, 300)).isFalse();
        assertThat(Signature.verify(secret, header, BODY, 1_000_301, 300)).isFalse();
        assertThat(Signature.verify(secret, header.replace("t=1000000", "t=1000001"), BODY, 1_000_100, 300)).isFalse();
        assertThat(Signature.verify(secret, "v1=00", BODY, 1_000_100, 300)).isFalse();
        assertThat(Signature.verify(secret, null, BODY, 1_000_100, 300)).isFalse();
    }
}

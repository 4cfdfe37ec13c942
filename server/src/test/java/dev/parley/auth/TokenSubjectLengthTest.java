package dev.parley.auth;

import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class TokenSubjectLengthTest {
    private final TokenService tokens = TokenService.hs256(ParleyServer.SECRET, Duration.ofMinutes(5));

    @Test
    void a_subject_that_fits_the_sender_column_is_accepted() {
        String sub = "a".repeat(TokenService.MAX_SUBJECT_LENGTH);
        assertThat(tokens.verify(tokens.issue(sub).token())).hasValueSatisfying(id -> assertThat(id.username()).isEqualTo(sub));
    }

    @Test
    void a_longer_subject_is_rejected_before_it_can_fail_a_group_commit() {
        assertThat(tokens.verify(tokens.issue("a".repeat(TokenService.MAX_SUBJECT_LENGTH + 1)).token())).isEmpty();
    }
}

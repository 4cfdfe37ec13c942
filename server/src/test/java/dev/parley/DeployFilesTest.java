package dev.parley;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What deploy/docker-compose.yml promises about secrets, checked on its text: no Docker engine runs
 * here. (`docker compose config` stops on a `${VAR:?message}` that is unset; Debian's docker-compose
 * 1.29 was seen to, with these messages. nginx.conf is run for real by NginxProxyIT.)
 */
class DeployFilesTest {
    private static final String[] SECRETS = {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "CHAT_JWT_SECRET"};

    @Test
    void every_secret_of_the_compose_file_is_mandatory_and_has_no_default() throws Exception {
        String compose = Files.readString(Path.of("deploy/docker-compose.yml"));
        for (String secret : SECRETS) {
            Matcher uses = Pattern.compile("\\$\\{" + secret + "([^}]*)}").matcher(compose);
            int count = 0;
            while (uses.find()) {
                count++;
                assertThat(uses.group(1)).as("${%s%s}", secret, uses.group(1)).startsWith(":?").hasSizeGreaterThan(3);
            }
            assertThat(count).as(secret + " used").isPositive();
        }
    }

    @Test
    void redis_has_no_passwordless_user_and_no_password_on_a_command_line() throws Exception {
        String compose = Files.readString(Path.of("deploy/docker-compose.yml"));
        assertThat(compose).contains("user default off").contains("--aclfile").doesNotContain("--requirepass", "requirepass ");
        // The password reaches the ACL file and redis-cli through the environment only.
        assertThat(compose).doesNotContainPattern("redis-cli[^\\n]*-a ").doesNotContainPattern("--user parley on");
    }
}

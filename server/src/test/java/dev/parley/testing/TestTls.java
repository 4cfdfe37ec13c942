package dev.parley.testing;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A certificate for 127.0.0.1 and localhost made for this test run (by the JDK's keytool: an EC P-256
 * key, self-signed, valid two days), its PEM files for nginx, and clients that trust it and nothing
 * else. Made once per JVM, on first use.
 */
public final class TestTls {
    private static TestTls instance;

    private final Path certificate;
    private final Path privateKey;
    private final SSLContext context;
    private final HttpClient client;

    private TestTls(Path certificate, Path privateKey, SSLContext context) {
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.context = context;
        this.client = HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    public static synchronized TestTls get() {
        if (instance == null) instance = generate();
        return instance;
    }

    /** The certificate, PEM: what nginx's {@code ssl_certificate} reads. */
    public Path certificate() {
        return certificate;
    }

    /** Its private key, PEM (PKCS#8): what nginx's {@code ssl_certificate_key} reads. */
    public Path privateKey() {
        return privateKey;
    }

    /** Trusts this certificate only. */
    public SSLContext context() {
        return context;
    }

    /** An HTTP (and WebSocket) client that trusts this certificate only; it follows no redirect. */
    public HttpClient client() {
        return client;
    }

    private static TestTls generate() {
        try {
            Path dir = Files.createTempDirectory("parley-tls");
            Path store = dir.resolve("test.p12");
            char[] password = "test-store".toCharArray();
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "parley", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(password), "-keypass", new String(password))
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("keytool failed: " + output);

            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                keys.load(in, password);
            }
            Certificate cert = keys.getCertificate("parley");
            PrivateKey key = (PrivateKey) keys.getKey("parley", password);
            Path certPem = Files.writeString(dir.resolve("fullchain.pem"), pem("CERTIFICATE", cert.getEncoded()));
            Path keyPem = Files.writeString(dir.resolve("privkey.pem"), pem("PRIVATE KEY", key.getEncoded()));

            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("parley-test", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return new TestTls(certPem, keyPem, context);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        StringBuilder out = new StringBuilder("-----BEGIN " + type + "-----\n");
        for (String line : List.of(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der).split("\n"))) out.append(line).append('\n');
        return out.append("-----END ").append(type).append("-----\n").toString();
    }
}

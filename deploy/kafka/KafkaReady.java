import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;

/**
 * Readiness probe of deploy/kafka/kafka.sh: waits until every broker of BOOTSTRAP answers a
 * metadata request (DescribeCluster, sent to that broker first) that lists at least NODES live
 * brokers. Usage: KafkaReady BOOTSTRAP NODES SECONDS. Exits 0 when ready, 1 on time-out.
 */
public class KafkaReady {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: KafkaReady host:port[,host:port...] NODES SECONDS");
            System.exit(2);
        }
        int want = Integer.parseInt(args[1]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
        for (String addr : args[0].split(",")) {
            String last = "no answer";
            boolean ok = false;
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, addr);
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
            p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "citypulse-kafka-ready");
            try (Admin adm = Admin.create(p)) {
                while (System.nanoTime() < deadline) {
                    try {
                        Collection<Node> nodes = adm.describeCluster(new DescribeClusterOptions().timeoutMs(3000)).nodes().get();
                        if (nodes.size() >= want) {
                            ok = true;
                            break;
                        }
                        last = nodes.size() + " of " + want + " brokers live";
                    } catch (Exception e) {
                        last = String.valueOf(e.getCause() != null ? e.getCause() : e);
                    }
                    Thread.sleep(200);
                }
            }
            if (!ok) {
                System.err.println("kafka at " + addr + " not ready: " + last);
                System.exit(1);
            }
        }
    }
}

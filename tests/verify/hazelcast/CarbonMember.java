/*
 * One Hazelcast 3.5 member configured the way WSO2 Carbon kernel 4.4.1 configures its member from the
 * <clustering> section of axis2.xml with membershipScheme=wka. Test harness only (tests/verify/hazelcast).
 *
 * Usage: java -cp hazelcast-3.5.jar:log4j-1.2.17.jar:<dir> CarbonMember key=value...
 *   domain=D  localMemberHost=H  localMemberPort=P  member=HOST:PORT (repeatable, the WKA <members>)
 *   groupPassword=X  connTimeout=S  (optional axis2.xml parameters Carbon also reads)
 *   hazelcastProperties=FILE  (stands for $CARBON_HOME/repository/conf/hazelcast.properties; optional)
 *   logFile=FILE  (stands for repository/logs/wso2carbon.log; required)
 * Key absent = parameter absent from axis2.xml (Carbon's defaults apply). Values are taken verbatim.
 * Prints "READY" once the instance has started; leaves the cluster (Hazelcast.shutdownAll(), as
 * HazelcastClusteringAgent.stop() does) when stdin closes or on SIGTERM.
 *
 * The mapping, with file:line in carbon-kernel tag v4.4.1. HCA = core/org.wso2.carbon.core/src/main/java/
 * org/wso2/carbon/core/clustering/hazelcast/HazelcastClusteringAgent.java, WKA = .../hazelcast/wka/
 * WKABasedMembershipScheme.java, MU = .../hazelcast/util/MemberUtils.java.
 *  1. new Config() (HCA:103); properties (setHazelcastProperties, HCA:329-357): Carbon's own
 *     hazelcast.max.no.heartbeat.seconds=600, hazelcast.max.no.master.confirmation.seconds=900,
 *     hazelcast.merge.first.run.delay.seconds=60, hazelcast.merge.next.run.delay.seconds=30 (HCA:335-338),
 *     then every entry of $CARBON_HOME/repository/conf/hazelcast.properties if it exists, overriding them
 *     (HCA:330-332, 339-343); the whole set replaces Config's properties (HCA:356).
 *  2. mgtCenterURL -> management center, licenseKey (HCA:106-114): not reproduced (no effect on membership).
 *  3. domain (raw text, not trimmed; absent: Axis2's ClusteringConstants.DEFAULT_DOMAIN
 *     "apache.axis2.domain", HCA:364-373) -> instance name "<domain>.instance" (HCA:117) and
 *     GroupConfig name (HCA:119-120); groupPassword -> GroupConfig password, else Hazelcast's default
 *     "dev-pass" (HCA:121-124).
 *  4. localMemberHost (trimmed) -> NetworkConfig.setPublicAddress (HCA:127-142; absent: Axis2
 *     Utils.getIpAddress(), not supported here: required). 127.0.0.1/localhost only draws a warning (HCA:131-133).
 *  5. localMemberPort (trimmed, absent: 4000) -> NetworkConfig.setPort (HCA:143-148). Carbon leaves port
 *     auto-increment alone, so Hazelcast 3.5's default applies: auto-increment on, 100 ports
 *     (com.hazelcast.config.NetworkConfig:31-37): a busy port makes the member take the next one.
 *  6. membershipScheme=wka (HCA:150, 375-381) -> WKA.init (WKA:90-100): multicast off (WKA:91), tcp-ip on
 *     (WKA:93), connTimeout -> TcpIpConfig connection timeout seconds (WKA:107-114), each <member> added
 *     as "hostName:port" (WKA:97-99, MU:81-88). (The <members> list itself is read by Axis2's
 *     ClusterBuilder and handed over through setMembers, HCA:465-467.)
 *  7. MapConfig "carbon-map-config" with the default eviction policy (HCA:151-156); no custom serializers
 *     (hazelcastSerializers parameter absent in the stock axis2.xml, HCA:157, 291-295).
 *  8. Hazelcast.newHazelcastInstance(config) (HCA:170), then joinGroup (HCA:185-187, WKA:121-134):
 *     a membership listener logging "Member joined [uuid]: /ip:port" / "Member left [uuid]: /ip:port"
 *     (WKA:136-181); the distributed map "$<domain>.members" (MU:191-194) whose added entries go into
 *     this member's tcp-ip list (WKA:124, 186-190) - which Hazelcast re-reads when it looks for other
 *     clusters to merge with; its existing values added too under Carbon's own condition, host AND port
 *     both different (WKA:127-133, kept as is); the local member put into it (HCA:190-193, 215-216); a
 *     member leaving that is not a WKA member is removed from it (WKA:157-174). The map values here are
 *     "host:port" strings instead of axis2 Member objects: that is all MU.addMember uses of them.
 *  Not reproduced (no effect on membership): message topics, the coordinator lock/election
 *  (HCA:177-247), OSGi services, the message clean-up task; and the log lines that print an axis2
 *  Member (MU:86 "Added member: ...", WKA:166, HCA:194), whose toString is not in carbon-kernel. The
 *  Carbon lines logged are HCA:118, 132, 171, 261, 377 and WKA:146, 154, with Carbon's logger names.
 *
 * Logging: Carbon runs with -Dhazelcast.logging.type=log4j (set here if absent) and its
 * distribution/kernel/carbon-home/repository/conf/log4j.properties: root logger INFO (:26), org.wso2 INFO
 * (:52), CARBON_LOGFILE threshold DEBUG (:114) with ConversionPattern (:112)
 *     TID: [%T] [%S] [%d] %P%5p {%c} - %x %m %n
 * Carbon's TenantAwarePatternLayout converters are replaced by what they print on a Hazelcast (non-tenant)
 * thread (core/org.wso2.carbon.utils/src/main/java/org/wso2/carbon/utils/logging/...):
 *  %T -> "-1": CarbonDailyRollingFileAppender:51-63 wraps each event with the thread's CarbonContext tenant
 *        id, which defaults to MultitenantConstants.INVALID_TENANT_ID = -1 (context/internal/
 *        CarbonContextDataHolder:138, org.wso2.carbon.base.MultitenantConstants:38; LoggingUtils:73).
 *  %S -> "": the ServerKey, read from ServerConfiguration once, when log4j builds the layout
 *        (TenantAwarePatternLayout:126-130) - before carbon.xml is loaded, so null, printed as "" (:196-197);
 *        Carbon 4.4 logs indeed read "TID: [-1234] [] [...".
 *  %P -> "": tenant -1 prints superTenantText (:359-364), which nothing in kernel 4.4.1 sets: null -> "".
 * %x (NDC, empty) and %d (ISO8601) are plain log4j 1.2.17.
 *
 * Test-only deviation: all members share one host, so each binds only to its own loopback address
 * (127.0.0.x) instead of the wildcard: system properties (not Config entries, so Carbon's Config object is
 * untouched; a hazelcast.properties entry would still win) hazelcast.local.localAddress=<localMemberHost>
 * (com.hazelcast.instance.DefaultAddressPicker:263-275 binds to it; Hazelcast's "interfaces" cannot
 * select 127.0.0.x since Linux lists only 127.0.0.1 on lo), hazelcast.socket.bind.any=false (server
 * socket) and hazelcast.socket.client.bind.any=false (outgoing connections leave from that address,
 * as from a node's own IP on EC2, not from 127.0.0.1).
 * Java 17 (Hazelcast 3.5 predates Java 9): no configuration change, only JVM flags (cluster.py JVM_FLAGS:
 * --limit-modules java.se -Dhazelcast.nio.faststring=false) plus the stand-in class java17/sun/misc/Unsafe.java,
 * which says why flags alone cannot do it. No --add-opens: opening java.lang would break it again.
 *
 * Leaving: stdin closed -> Hazelcast.shutdownAll() (graceful). SIGTERM -> the JVM's shutdown hooks run
 * together: Hazelcast's own (hazelcast.shutdownhook.enabled, default true: LifecycleService.terminate())
 * and this one (shutdownAll()); as in a Carbon JVM, Hazelcast's usually wins ("Terminating forcefully").
 * Either way the connections close and the others remove the member at once.
 */

import com.hazelcast.config.Config;
import com.hazelcast.config.GroupConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.TcpIpConfig;
import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IMap;
import com.hazelcast.core.Member;
import com.hazelcast.core.MemberAttributeEvent;
import com.hazelcast.core.MembershipEvent;
import com.hazelcast.core.MembershipListener;
import org.apache.log4j.FileAppender;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.apache.log4j.PatternLayout;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

@SuppressWarnings("deprecation") // Member.getInetSocketAddress(), as Carbon 4.4.1 calls it
public final class CarbonMember {
    /** log4j.properties:112 with %T, %S, %P replaced as explained above. */
    static final String CARBON_LOGFILE_PATTERN = "TID: [-1] [] [%d] %5p {%c} - %x %m %n";
    static final String AGENT = "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent";
    static final String WKA_SCHEME = "org.wso2.carbon.core.clustering.hazelcast.wka.WKABasedMembershipScheme";

    public static void main(String[] args) throws Exception {
        Map<String, String> in = new HashMap<>();
        List<String> wka = new ArrayList<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("expected key=value, got " + arg);
            }
            String key = arg.substring(0, eq), value = arg.substring(eq + 1);
            if (key.equals("member")) {
                wka.add(value);
            } else {
                in.put(key, value);
            }
        }
        String host = require(in, "localMemberHost").trim();
        configureLogging(require(in, "logFile"));
        // The test-only loopback binding (see header).
        System.setProperty("hazelcast.local.localAddress", host);
        System.setProperty("hazelcast.socket.bind.any", "false");
        System.setProperty("hazelcast.socket.client.bind.any", "false");

        Config config = carbonConfig(in, host, wka);
        Runtime.getRuntime().addShutdownHook(new Thread(Hazelcast::shutdownAll, "carbon-member-stop"));
        long start = System.currentTimeMillis();
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
        Logger.getLogger(AGENT).info("Hazelcast initialized in " + (System.currentTimeMillis() - start) + "ms");
        joinGroup(hz, config.getGroupConfig().getName(), config.getNetworkConfig().getJoin().getTcpIpConfig(), wka);
        Logger.getLogger(AGENT).info("Cluster initialization completed");
        System.out.println("READY");
        System.out.flush();

        while (System.in.read() != -1) {
            // run until stdin closes
        }
        Hazelcast.shutdownAll();
        System.exit(0);
    }

    static Config carbonConfig(Map<String, String> in, String host, List<String> wka) throws IOException {
        Logger log = Logger.getLogger(AGENT);
        Config config = new Config();
        Properties props = new Properties();
        props.setProperty("hazelcast.max.no.heartbeat.seconds", "600");
        props.setProperty("hazelcast.max.no.master.confirmation.seconds", "900");
        props.setProperty("hazelcast.merge.first.run.delay.seconds", "60");
        props.setProperty("hazelcast.merge.next.run.delay.seconds", "30");
        String propsFile = in.get("hazelcastProperties");
        if (propsFile != null && new File(propsFile).exists()) {
            try (InputStream stream = new FileInputStream(propsFile)) {
                props.load(stream);
            }
        }
        config.setProperties(props);

        String domain = in.getOrDefault("domain", "apache.axis2.domain");
        config.setInstanceName(domain + ".instance");
        log.info("Cluster domain: " + domain);
        GroupConfig group = config.getGroupConfig();
        group.setName(domain);
        if (in.containsKey("groupPassword")) {
            group.setPassword(in.get("groupPassword"));
        }

        NetworkConfig network = config.getNetworkConfig();
        if ("127.0.0.1".equals(host) || "localhost".equals(host)) {
            log.warn("localMemberHost is configured to use the loopback address. "
                    + "Hazelcast Clustering needs ip addresses for localMemberHost and well-known members.");
        }
        network.setPublicAddress(host);
        String port = in.get("localMemberPort");
        network.setPort(port == null ? 4000 : Integer.parseInt(port.trim()));

        log.info("Using wka based membership management scheme");
        network.getJoin().getMulticastConfig().setEnabled(false);
        TcpIpConfig tcpIp = network.getJoin().getTcpIpConfig();
        tcpIp.setEnabled(true);
        if (in.containsKey("connTimeout")) {
            tcpIp.setConnectionTimeoutSeconds(Integer.parseInt(in.get("connTimeout").trim()));
        }
        for (String member : wka) {
            addMember(member, tcpIp);
        }

        MapConfig mapConfig = new MapConfig("carbon-map-config");
        mapConfig.setEvictionPolicy(MapConfig.DEFAULT_EVICTION_POLICY);
        config.addMapConfig(mapConfig);
        return config;
    }

    /** WKABasedMembershipScheme.joinGroup() and the local-member registration of HCA.init(). */
    static void joinGroup(HazelcastInstance hz, String domain, TcpIpConfig tcpIp, List<String> wka) {
        Logger log = Logger.getLogger(WKA_SCHEME);
        IMap<String, String> allMembers = hz.getMap("$" + domain + ".members");
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
                Member member = event.getMember();
                if (!hz.getCluster().getLocalMember().equals(member)) {
                    log.info("Member joined [" + member.getUuid() + "]: " + member.getInetSocketAddress());
                }
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                Member gone = event.getMember();
                log.info("Member left [" + gone.getUuid() + "]: " + gone.getInetSocketAddress());
                String hostPort = allMembers.get(gone.getUuid());
                if (hostPort == null) {
                    return;
                }
                if (!wka.contains(hostPort)) {
                    allMembers.remove(gone.getUuid());
                }
            }

            @Override
            public void memberAttributeChanged(MemberAttributeEvent event) {
            }
        });
        allMembers.addEntryListener(new EntryAdapter<String, String>() {
            @Override
            public void entryAdded(EntryEvent<String, String> event) {
                addMember(event.getValue(), tcpIp);
            }
        }, true);
        InetSocketAddress local = hz.getCluster().getLocalMember().getInetSocketAddress();
        for (String hostPort : allMembers.values()) {
            int colon = hostPort.lastIndexOf(':');
            if (!hostPort.substring(0, colon).equals(local.getHostName())
                    && Integer.parseInt(hostPort.substring(colon + 1)) != local.getPort()) {
                addMember(hostPort, tcpIp);
            }
        }
        Member self = hz.getCluster().getLocalMember();
        allMembers.put(self.getUuid(), self.getInetSocketAddress().getAddress().getHostAddress() + ":"
                + self.getInetSocketAddress().getPort());
    }

    /** MemberUtils.addMember: "host:port" into the tcp-ip list unless already there. */
    static void addMember(String hostPort, TcpIpConfig tcpIp) {
        if (!tcpIp.getMembers().contains(hostPort)) {
            tcpIp.addMember(hostPort);
        }
    }

    static void configureLogging(String logFile) throws IOException {
        if (System.getProperty("hazelcast.logging.type") == null) {
            System.setProperty("hazelcast.logging.type", "log4j");
        }
        FileAppender appender = new FileAppender(new PatternLayout(CARBON_LOGFILE_PATTERN), logFile, true);
        appender.setThreshold(Level.DEBUG);
        Logger root = Logger.getRootLogger();
        root.setLevel(Level.INFO);
        root.addAppender(appender);
        Logger.getLogger("org.wso2").setLevel(Level.INFO);
    }

    static String require(Map<String, String> in, String key) {
        String value = in.get(key);
        if (value == null) {
            throw new IllegalArgumentException("missing " + key + "=...");
        }
        return value;
    }

    private CarbonMember() {
    }
}

package sun.misc;

/**
 * Stands in for the JDK's sun.misc.Unsafe when the member JVM runs with --limit-modules java.se, which
 * leaves out the jdk.unsupported module that holds the real one. getUnsafe() refuses, as the real one
 * does for application classes, and there is no theUnsafe field, so Hazelcast 3.5's UnsafeHelper
 * (com.hazelcast.nio.UnsafeHelper:61-107, 120-148) finds no Unsafe and takes its no-Unsafe code paths.
 *
 * Why: with the real Unsafe, Hazelcast 3.5 reads String.value as a char[] (UTFEncoderDecoder:268-297);
 * since Java 9 it is a byte[], so every join message fails with ClassCastException. No JVM flag alone
 * turns that off: --limit-modules without this class fails with NoClassDefFoundError: sun/misc/Unsafe.
 */
public final class Unsafe {
    public static Unsafe getUnsafe() {
        throw new SecurityException("Unsafe");
    }

    private Unsafe() {
    }
}

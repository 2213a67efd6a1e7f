"""The JVM options of a node: a heap sized to the instance's memory, and GC logs.

Carbon 4.4.1's bin/wso2server.sh starts Java with `-Xms256m -Xmx1024m -XX:MaxPermSize=256m` and
appends `$JAVA_OPTS` after them; HotSpot takes the last of a repeated option, so these win. The
node runs WSO2 alone: the heap is the memory less the OS and agents' share and the JVM's own
(non-heap) memory, fixed at start (-Xms = -Xmx) so that it never has to grow under load.
"""

from __future__ import annotations

from typing import Tuple, Union

OS_AND_AGENTS_MIB = 512  # at least: the OS, the SSM and CloudWatch agents; 5% on larger nodes
NON_HEAP_MIB = 768  # metaspace (capped below), code cache (240 MiB), thread stacks, GC structures
METASPACE_MAX_MIB = 512  # Java 8's replacement of the permanent generation that wso2server.sh sizes
MIN_HEAP_MIB = 512
MAX_HEAP_MIB = 31744  # under 32 GiB, where the JVM stops compressing object pointers
GC_LOG = "repository/logs/gc.log"  # under the product home; rotated as gc.log.<n>[.current]


def max_heap_mib(memory_mib: int) -> int:
    """The largest heap that leaves the OS, the agents and the JVM's non-heap their share."""
    return min(MAX_HEAP_MIB, memory_mib - max(OS_AND_AGENTS_MIB, memory_mib // 20) - NON_HEAP_MIB)


def default_heap_mib(memory_mib: int) -> int:
    """The heap for a node of `memory_mib`: the largest that fits, in whole 256 MiB."""
    return max(MIN_HEAP_MIB, max_heap_mib(memory_mib) // 256 * 256)


def java_options(heap_mib: Union[int, str], product_home: str) -> Tuple[str, ...]:
    """The options wso2server.sh gets in JAVA_OPTS (`heap_mib` may be a shell variable)."""
    return (
        f"-Xms{heap_mib}m",
        f"-Xmx{heap_mib}m",
        f"-XX:MaxMetaspaceSize={METASPACE_MAX_MIB}m",
        f"-Xloggc:{product_home}/{GC_LOG}",
        "-XX:+PrintGCDetails",
        "-XX:+PrintGCDateStamps",
        "-XX:+UseGCLogFileRotation",
        "-XX:NumberOfGCLogFiles=5",
        "-XX:GCLogFileSize=10M",
    )

"""WSO2 Application Server 5.3.0 worker/manager cluster on AWS: one stack per environment.

Thin on purpose: validate the configuration (before anything is declared), warn about what is
allowed but unwise, build the cluster component, export its outputs. Everything else lives in
components/ and userdata/.
"""

import pulumi

from components.cluster import WSO2Cluster, WSO2ClusterArgs
from components.config.load import load_config
from components.config.posture import posture_warnings


def main() -> None:
    config = load_config()  # raises ConfigError, one line per problem
    for warning in posture_warnings(config):
        pulumi.log.warn(warning)
    stack = pulumi.get_stack()
    cluster = WSO2Cluster(stack, WSO2ClusterArgs(config=config, project=pulumi.get_project(), stack=stack))
    for key, value in cluster.outputs.items():
        pulumi.export(key, value)


main()

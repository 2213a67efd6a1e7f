"""The stack configuration: one immutable, fully validated object with defaults applied.

Every problem becomes one line naming the key, the value given and what is allowed, and all
problems are reported at once — single-key problems and cross-key ones alike:

    invalid config wso2-cluster:workerCount = 0: must be an integer from 1 to 50

    parsers  each key's parser, and the types the schema is written in
    schema   ClusterConfig: every key, its type, default and meaning (OPTIONAL_KEYS for the keys
             Pulumi.yaml does not declare)
    rules    the cross-key rules
    report   how a problem reads
    posture  what is allowed but unwise (warnings)
    load     parse_config, the one entry point: the three passes, then the trial render of the
             nodes' user data (components.node_settings, which builds on the schema)

This package's own import loads nothing: a module that needs the schema imports only the schema.
"""

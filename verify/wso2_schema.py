"""The tables WSO2 AS 5.3.0 creates in each of its databases: those of its `dbscripts/mysql.sql`.

AS 5.3.0 ships Carbon kernel 4.4.1's script (wso2/carbon-kernel v4.4.1,
distribution/kernel/carbon-home/dbscripts/mysql.sql, git blob 3d0b88c20a47b3102b65c7783d8d952d9ccede74):
39 `CREATE TABLE` statements, the registry's REG_* and the user store's UM_* tables. The manager's
boot runs the whole script in both the user-store and the registry database, so each must hold
every one of them.
"""

from __future__ import annotations

TABLES = (
    "REG_CLUSTER_LOCK",
    "REG_LOG",
    "REG_PATH",
    "REG_CONTENT",
    "REG_CONTENT_HISTORY",
    "REG_RESOURCE",
    "REG_RESOURCE_HISTORY",
    "REG_COMMENT",
    "REG_RESOURCE_COMMENT",
    "REG_RATING",
    "REG_RESOURCE_RATING",
    "REG_TAG",
    "REG_RESOURCE_TAG",
    "REG_PROPERTY",
    "REG_RESOURCE_PROPERTY",
    "REG_ASSOCIATION",
    "REG_SNAPSHOT",
    "UM_TENANT",
    "UM_DOMAIN",
    "UM_USER",
    "UM_SYSTEM_USER",
    "UM_ROLE",
    "UM_MODULE",
    "UM_MODULE_ACTIONS",
    "UM_PERMISSION",
    "UM_ROLE_PERMISSION",
    "UM_USER_PERMISSION",
    "UM_USER_ROLE",
    "UM_SHARED_USER_ROLE",
    "UM_ACCOUNT_MAPPING",
    "UM_USER_ATTRIBUTE",
    "UM_DIALECT",
    "UM_CLAIM",
    "UM_PROFILE_CONFIG",
    "UM_HYBRID_ROLE",
    "UM_HYBRID_USER_ROLE",
    "UM_SYSTEM_ROLE",
    "UM_SYSTEM_USER_ROLE",
    "UM_HYBRID_REMEMBER_ME",
)

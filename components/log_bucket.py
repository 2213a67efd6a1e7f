"""A private S3 bucket for the load balancer's access logs (FSBP ELB.5), when the stack makes one.

ALB access logs support only SSE-S3 (AES256) encryption, not KMS. The bucket is private (public
access blocked, ACLs disabled), refuses plain-HTTP requests (FSBP S3.5), keeps logs 90 days,
aborts incomplete multipart uploads, and lets only Elastic Load Balancing write, and only under
the load balancer's prefix and account: as the region's ELB account where the region has one,
and as the log-delivery service principal (the only way in regions opened since August 2022).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components.aws_facts import ELB_LOG_DELIVERY_SERVICE, elb_log_account

LOG_RETENTION_DAYS = 90
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass
class LogBucketArgs:
    name_prefix: str  # the stack label: the bucket is <prefix>-alb-logs-<unique suffix>
    log_prefix: str  # the load balancer's access_logs prefix (objects under <prefix>/AWSLogs/<account>/)
    region: str
    partition: str
    force_destroy: bool  # true when the load balancer itself may be destroyed (no deletion protection)
    tags: Mapping[str, str] = field(default_factory=dict)


class LogBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    # What a load balancer writing here must wait for: ELB checks write access when logging is
    # turned on, so the bucket policy (and the settings it is applied after) must exist first.
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: LogBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:LogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity().account_id
        elb_account = elb_log_account(args.region)

        # aws.s3.Bucket, not BucketV2 (deprecated in favour of Bucket in pulumi-aws 7). A unique
        # suffix keeps the globally unique name free (the stack label is lower case, and short
        # enough for bucket_prefix's 37 characters).
        self.bucket = aws.s3.Bucket(
            f"{name}-alb-logs",
            bucket_prefix=f"{args.name_prefix}-alb-logs-",
            # Logs go with the stack, unless the stack protects its load balancer (prod).
            force_destroy=args.force_destroy,
            tags=dict(args.tags),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-alb-logs-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-alb-logs-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),  # no ACLs
            opts=child,
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256",  # SSE-S3: the only encryption ALB log delivery supports
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{args.log_prefix}/"),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=LOG_RETENTION_DAYS),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                    ),
                ),
            ],
            opts=child,
        )

        def policy_document(values: list) -> str:
            bucket_arn, bucket_name = values
            log_objects = f"arn:{args.partition}:s3:::{bucket_name}/{args.log_prefix}/AWSLogs/{account_id}/*"
            statements = [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "ElbServiceLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
                    "Action": "s3:PutObject",
                    "Resource": log_objects,
                },
            ]
            if elb_account:
                statements.append(
                    {
                        "Sid": "ElbAccountLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:{args.partition}:iam::{elb_account}:root"},
                        "Action": "s3:PutObject",
                        "Resource": log_objects,
                    }
                )
            return json.dumps({"Version": "2012-10-17", "Statement": statements})

        policy = aws.s3.BucketPolicy(
            f"{name}-alb-logs-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, self.bucket.bucket).apply(policy_document),
            # S3 rejects concurrent changes to a bucket's access settings; the policy goes last.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )
        self.ready = [policy, encryption]
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})

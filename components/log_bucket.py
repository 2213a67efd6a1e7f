"""A private S3 bucket for the load balancer's access logs (FSBP ELB.5), when the stack makes one.

ALB access logs support only SSE-S3 (AES256) encryption, not KMS. The bucket is private (public
access blocked, ACLs disabled), refuses plain-HTTP requests (FSBP S3.5), keeps logs 90 days, and
lets only Elastic Load Balancing write, and only under the load balancer's prefix and account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components.naming import aws_name

LOG_RETENTION_DAYS = 90
# Regions opened since August 2022 deliver logs as this service principal, older ones as the
# region's ELB account (aws.elb.get_service_account); the policy allows both.
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
BUCKET_PREFIX_LIMIT = 37  # S3 bucket_prefix: at most 37 characters, lower case


@dataclass
class LogBucketArgs:
    name_prefix: str  # e.g. "wso2-dev": the bucket is <prefix>-alb-logs-<unique suffix>
    log_prefix: str  # the load balancer's access_logs prefix (objects under <prefix>/AWSLogs/<account>/)
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
        elb_account_arn = aws.elb.get_service_account().arn

        # aws.s3.Bucket, not BucketV2 (deprecated in favour of Bucket in pulumi-aws 7). A unique
        # suffix keeps the globally unique name free; lower case because S3 requires it.
        self.bucket = aws.s3.Bucket(
            f"{name}-alb-logs",
            bucket_prefix=aws_name(args.name_prefix.lower(), "alb-logs", limit=BUCKET_PREFIX_LIMIT - 1) + "-",
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
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256",  # SSE-S3: the only encryption ALB log delivery supports
                ),
            )],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs-lifecycle",
            bucket=self.bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{args.log_prefix}/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=LOG_RETENTION_DAYS),
            )],
            opts=child,
        )

        def policy_document(values: list) -> str:
            bucket_arn, bucket_name = values
            log_objects = f"arn:aws:s3:::{bucket_name}/{args.log_prefix}/AWSLogs/{account_id}/*"
            return json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, f"{bucket_arn}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Sid": "ElbAccountLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb_account_arn},
                        "Action": "s3:PutObject",
                        "Resource": log_objects,
                    },
                    {
                        "Sid": "ElbServiceLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
                        "Action": "s3:PutObject",
                        "Resource": log_objects,
                    },
                ],
            })

        policy = aws.s3.BucketPolicy(
            f"{name}-alb-logs-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, self.bucket.bucket).apply(policy_document),
            # S3 rejects concurrent changes to a bucket's access settings; the policy goes last.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )
        self.ready = [policy, encryption]
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})

"""The Application Load Balancer: host-based routing of the service host to the workers and the
management host to the manager, HTTP 80 and HTTPS 443 (TLS 1.2/1.3 only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components.log_bucket import LogBucket, LogBucketArgs
from components.naming import aws_name

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTHY_CODES = "200-399"  # the consoles answer with redirects to their login pages


@dataclass
class LoadBalancerArgs:
    name_prefix: str  # physical names: <prefix>-alb, <prefix>-wh-<port>, ... (<= 32 characters)
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # public, in two or more AZs
    security_group_id: pulumi.Input[str]
    manager_instance_id: pulumi.Input[str]
    worker_instance_ids: Sequence[pulumi.Input[str]]
    http_port: int  # 9763 + offset
    https_port: int  # 9443 + offset
    service_host: str
    management_host: str
    http_mode: str  # "forward" | "redirect"
    worker_health_check_path: str
    manager_health_check_path: str
    manager_stickiness_seconds: int
    deletion_protection: bool
    certificate_arn: Optional[str] = None
    self_signed_certificate: bool = False
    # FSBP ELB.5: access logs to access_logs_bucket, or (when None) to a bucket made here.
    access_logs: bool = True
    access_logs_bucket: Optional[str] = None
    public_zone_id: Optional[str] = None
    tags: Mapping[str, str] = field(default_factory=dict)


class LoadBalancer(pulumi.ComponentResource):
    alb: aws.lb.LoadBalancer
    workers_http: Optional[aws.lb.TargetGroup]  # only when HTTP is forwarded to the workers
    log_bucket: Optional[LogBucket] = None
    workers_https: aws.lb.TargetGroup
    manager_https: aws.lb.TargetGroup

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        access_logs, alb_waits_for = None, []
        if args.access_logs:
            bucket: pulumi.Input[str] = args.access_logs_bucket
            if bucket is None:
                self.log_bucket = LogBucket(name, LogBucketArgs(
                    name_prefix=args.name_prefix,
                    log_prefix=args.name_prefix,
                    # the logs may go when the load balancer may (no deletion protection)
                    force_destroy=not args.deletion_protection,
                    tags=tags,
                ), child)
                bucket = self.log_bucket.bucket.bucket
                # ELB checks that it may write to the bucket when logging is switched on.
                alb_waits_for = self.log_bucket.ready
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket, prefix=args.name_prefix, enabled=True)

        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=aws_name(args.name_prefix, "alb"),
            load_balancer_type="application",
            internal=False,
            subnets=list(args.subnet_ids),
            security_groups=[args.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=args.deletion_protection,
            access_logs=access_logs,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=alb_waits_for),
        )

        def target_group(label: str, short: str, protocol: str, port: int, path: str,
                         stickiness: Optional[aws.lb.TargetGroupStickinessArgs] = None) -> aws.lb.TargetGroup:
            # The port is part of the name: a new port offset replaces the group under a new name,
            # so the new one is created before the old one is deleted.
            return aws.lb.TargetGroup(
                f"{name}-{label}",
                name=aws_name(args.name_prefix, short, str(port)),
                target_type="instance",
                vpc_id=args.vpc_id,
                protocol=protocol,
                port=port,
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True, protocol=protocol, port="traffic-port", path=path, matcher=HEALTHY_CODES
                ),
                stickiness=stickiness,
                tags=tags,
                opts=child,
            )

        # The workers' HTTP group exists only when the HTTP listener forwards to it: in redirect
        # mode nothing would use it, and AWS would report its targets unused (Target.NotInUse).
        forward_http = args.http_mode == "forward"
        self.workers_http = (
            target_group("workers-http", "wh", "HTTP", args.http_port, args.worker_health_check_path)
            if forward_http else None
        )
        self.workers_https = target_group("workers-https", "ws", "HTTPS", args.https_port, args.worker_health_check_path)
        self.manager_https = target_group(
            "manager-https", "ms", "HTTPS", args.https_port, args.manager_health_check_path,
            # The management console keeps its session on one node.
            stickiness=aws.lb.TargetGroupStickinessArgs(
                type="lb_cookie", enabled=True, cookie_duration=args.manager_stickiness_seconds
            ),
        )
        worker_groups = [("https", self.workers_https, args.https_port)]
        if self.workers_http is not None:
            worker_groups.insert(0, ("http", self.workers_http, args.http_port))
        for i, worker_id in enumerate(args.worker_instance_ids, start=1):
            for label, group, port in worker_groups:
                aws.lb.TargetGroupAttachment(
                    f"{name}-worker-{i}-{label}", target_group_arn=group.arn, target_id=worker_id, port=port, opts=child
                )
        aws.lb.TargetGroupAttachment(
            f"{name}-manager-https", target_group_arn=self.manager_https.arn, target_id=args.manager_instance_id,
            port=args.https_port, opts=child,
        )

        redirect_to_https = aws.lb.ListenerDefaultActionArgs(
            type="redirect",
            redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
        )
        http = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.workers_http.arn)
                if self.workers_http is not None
                else redirect_to_https
            ],
            tags=tags,
            opts=child,
        )
        # The management console is HTTPS only, whatever the service's HTTP mode.
        aws.lb.ListenerRule(
            f"{name}-http-management-redirect",
            listener_arn=http.arn,
            priority=10,
            conditions=[self._host_is(args.management_host)],
            actions=[
                aws.lb.ListenerRuleActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerRuleActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
            tags=tags,
            opts=child,
        )

        https = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=self._certificate(name, args, tags),
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.workers_https.arn)],
            tags=tags,
            opts=child,
        )
        aws.lb.ListenerRule(
            f"{name}-https-management",
            listener_arn=https.arn,
            priority=10,
            conditions=[self._host_is(args.management_host)],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.manager_https.arn)],
            tags=tags,
            opts=child,
        )

        if args.public_zone_id:
            for label, host in (("service", args.service_host), ("management", args.management_host)):
                aws.route53.Record(
                    f"{name}-{label}-alias",
                    zone_id=args.public_zone_id,
                    name=host,
                    type="A",
                    aliases=[aws.route53.RecordAliasArgs(
                        name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True
                    )],
                    opts=child,
                )

        self.target_group_arns = {
            **({"workersHttp": self.workers_http.arn} if self.workers_http is not None else {}),
            "workersHttps": self.workers_https.arn,
            "managerHttps": self.manager_https.arn,
        }
        self.register_outputs({"dnsName": self.alb.dns_name, "targetGroupArns": self.target_group_arns})

    @staticmethod
    def _host_is(host: str) -> aws.lb.ListenerRuleConditionArgs:
        return aws.lb.ListenerRuleConditionArgs(
            host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=[host])
        )

    def _certificate(self, name: str, args: LoadBalancerArgs, tags: Mapping[str, str]) -> pulumi.Input[str]:
        if args.certificate_arn:
            return args.certificate_arn
        # Test stacks only: a self-signed certificate for both hosts, imported into ACM.
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{name}-tls-key", algorithm="RSA", rsa_bits=2048, opts=child)
        cert = tls.SelfSignedCert(
            f"{name}-tls-cert",
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name=args.service_host),
            dns_names=[args.service_host, args.management_host],
            allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
            validity_period_hours=8760,
            opts=child,
        )
        imported = aws.acm.Certificate(
            f"{name}-certificate",
            private_key=key.private_key_pem,
            certificate_body=cert.cert_pem,
            tags=dict(tags),
            opts=child,
        )
        return imported.arn

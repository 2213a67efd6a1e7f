"""The Application Load Balancer: host-based routing of the service host to the workers and the
management host to the manager, HTTP 80 and HTTPS 443 (TLS 1.2/1.3 only).

The management console is not public by default: only `managementAllowedCidrs` (by default the
VPC's own range) reach it, through a source-IP condition on its rules; everyone else gets 403.
An optional WAFv2 web ACL guards the whole load balancer. Targets are attached per node
(`attach`), as each node is launched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components.drain import DEREGISTRATION_DELAY_SECONDS, drain_hook
from components.log_bucket import LogBucket, LogBucketArgs

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTHY_CODES = "200-399"  # the console answers with redirects to its login page
MANAGEMENT_RULE_PRIORITY = 10  # the console's allowed sources; 10 + n for more than 4 of them
MANAGEMENT_DENY_PRIORITY = 100
# Healthy within 10 s of a node answering (ALB's minimum interval and threshold); unhealthy only
# after 3 failures in a row (15 s), so one slow answer, e.g. in a GC pause, takes no node out.
HEALTH_CHECK = {"interval": 5, "timeout": 4, "healthy_threshold": 2, "unhealthy_threshold": 3}
# The WAF's AWS managed rule groups: common exploits, and inputs known to be malicious.
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


@dataclass
class LoadBalancerArgs:
    label: str  # naming.stack_label(stack): logical names (AWS auto-names from them)
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # public, in two or more AZs
    security_group_id: pulumi.Input[str]
    http_port: int  # 9763 + offset
    https_port: int  # 9443 + offset
    service_host: str
    management_host: str
    # Who may reach the console. Never empty: by default the VPC's own range, which keeps the
    # manager's target group in use (so its targets are health-checked) while nobody on the
    # internet matches it; operators then reach the console through SSM port forwarding.
    management_cidrs: Sequence[pulumi.Input[str]]
    cidrs_per_rule: int  # source CIDRs per listener rule (an ALB rule takes 5 condition values)
    http_mode: str  # "forward" | "redirect"
    worker_health_check_path: str
    manager_health_check_path: str
    manager_stickiness_seconds: int
    worker_stickiness_seconds: int  # 0: none
    deletion_protection: bool
    certificate_arn: Optional[str] = None
    self_signed_certificate: bool = False
    # FSBP ELB.5: access logs to access_logs_bucket, or (when None) to a bucket made here.
    access_logs: bool = True
    access_logs_bucket: Optional[str] = None
    web_acl_rate_limit: Optional[int] = None  # requests per 5 minutes per client IP; None: no WAF
    public_zone_id: Optional[str] = None
    region: str = ""
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)


class LoadBalancer(pulumi.ComponentResource):
    alb: aws.lb.LoadBalancer
    workers_http: Optional[aws.lb.TargetGroup]  # only when HTTP is forwarded to the workers
    workers_https: aws.lb.TargetGroup
    manager_https: aws.lb.TargetGroup
    log_bucket: Optional[LogBucket] = None
    web_acl: Optional[aws.wafv2.WebAcl] = None

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("wso2:cluster:LoadBalancer", name, None, opts)
        self._name = name
        self._drain = drain_hook(f"{name}-drain")
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        access_logs, alb_waits_for = None, []
        if args.access_logs:
            bucket: pulumi.Input[str] = args.access_logs_bucket
            if bucket is None:
                self.log_bucket = LogBucket(
                    name,
                    LogBucketArgs(
                        name_prefix=args.label,
                        log_prefix=args.label,
                        region=args.region,
                        partition=args.partition,
                        # the logs may go when the load balancer may (no deletion protection)
                        force_destroy=not args.deletion_protection,
                        tags=tags,
                    ),
                    child,
                )
                bucket = self.log_bucket.bucket.bucket
                # ELB checks that it may write to the bucket when logging is switched on.
                alb_waits_for = self.log_bucket.ready
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket, prefix=args.label, enabled=True)

        # Auto-named (<label>-alb-<random>, within the 32 characters AWS allows).
        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
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

        def target_group(
            short: str, protocol: str, port: int, path: str, stickiness_seconds: int
        ) -> aws.lb.TargetGroup:
            # Auto-named from a short logical name (a target group's name has at most 32
            # characters): a group replaced for a new port or VPC gets a new name, and is created
            # before the old one is deleted.
            return aws.lb.TargetGroup(
                f"{name}-{short}",
                target_type="instance",
                vpc_id=args.vpc_id,
                protocol=protocol,
                port=port,
                deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True,
                    protocol=protocol,
                    port="traffic-port",
                    path=path,
                    matcher=HEALTHY_CODES,
                    **HEALTH_CHECK,
                ),
                stickiness=aws.lb.TargetGroupStickinessArgs(
                    type="lb_cookie", enabled=True, cookie_duration=stickiness_seconds
                )
                if stickiness_seconds
                else None,
                tags=tags,
                opts=child,
            )

        # The workers' HTTP group exists only when the HTTP listener forwards to it: in redirect
        # mode nothing would use it, and AWS would report its targets unused (Target.NotInUse).
        self.workers_http = (
            target_group("wh", "HTTP", args.http_port, args.worker_health_check_path, args.worker_stickiness_seconds)
            if args.http_mode == "forward"
            else None
        )
        self.workers_https = target_group(
            "ws", "HTTPS", args.https_port, args.worker_health_check_path, args.worker_stickiness_seconds
        )
        # The management console keeps its session on one node.
        self.manager_https = target_group(
            "ms", "HTTPS", args.https_port, args.manager_health_check_path, args.manager_stickiness_seconds
        )
        self._worker_groups = [
            (label, group, port)
            for label, group, port in (
                ("http", self.workers_http, args.http_port),
                ("https", self.workers_https, args.https_port),
            )
            if group is not None
        ]
        self._manager_groups = [("https", self.manager_https, args.https_port)]

        redirect_to_https = dict(
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
                else aws.lb.ListenerDefaultActionArgs(**redirect_to_https)
            ],
            tags=tags,
            opts=child,
        )
        # The management console is HTTPS only, whatever the service's HTTP mode.
        aws.lb.ListenerRule(
            f"{name}-http-management-redirect",
            listener_arn=http.arn,
            priority=MANAGEMENT_RULE_PRIORITY,
            conditions=[self._host_is(args.management_host)],
            actions=[
                aws.lb.ListenerRuleActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerRuleActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
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
        # The console: the allowed sources (at most `cidrs_per_rule` per rule) to the manager;
        # anyone else asking for the management host gets 403, never the workers.
        chunks = [
            args.management_cidrs[i : i + args.cidrs_per_rule]
            for i in range(0, len(args.management_cidrs), args.cidrs_per_rule)
        ]
        for number, cidrs in enumerate(chunks):
            aws.lb.ListenerRule(
                f"{name}-https-management" + (f"-{number}" if number else ""),
                listener_arn=https.arn,
                priority=MANAGEMENT_RULE_PRIORITY + number,
                conditions=[
                    self._host_is(args.management_host),
                    aws.lb.ListenerRuleConditionArgs(
                        source_ip=aws.lb.ListenerRuleConditionSourceIpArgs(values=list(cidrs))
                    ),
                ],
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.manager_https.arn)],
                tags=tags,
                opts=child,
            )
        aws.lb.ListenerRule(
            f"{name}-https-management-deny",
            listener_arn=https.arn,
            priority=MANAGEMENT_DENY_PRIORITY,
            conditions=[self._host_is(args.management_host)],
            actions=[
                aws.lb.ListenerRuleActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerRuleActionFixedResponseArgs(
                        content_type="text/plain",
                        status_code="403",
                        message_body="The management console is not reachable from this address.\n",
                    ),
                )
            ],
            tags=tags,
            opts=child,
        )

        if args.web_acl_rate_limit is not None:
            self.web_acl = self._web_acl(name, args, tags)
        if args.public_zone_id:
            for label, host in (("service", args.service_host), ("management", args.management_host)):
                aws.route53.Record(
                    f"{name}-{label}-alias",
                    zone_id=args.public_zone_id,
                    name=host,
                    type="A",
                    aliases=[
                        aws.route53.RecordAliasArgs(
                            name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True
                        )
                    ],
                    opts=child,
                )

        self.target_group_arns = {
            **({"workersHttp": self.workers_http.arn} if self.workers_http is not None else {}),
            "workersHttps": self.workers_https.arn,
            "managerHttps": self.manager_https.arn,
        }
        self.register_outputs({"dnsName": self.alb.dns_name, "targetGroupArns": self.target_group_arns})

    def attach(
        self, node_name: str, role: str, instance: aws.ec2.Instance
    ) -> list[tuple[aws.lb.TargetGroup, int, aws.lb.TargetGroupAttachment]]:
        """Register a node's instance in its role's target groups: (group, port, attachment)."""
        groups = self._manager_groups if role == "manager" else self._worker_groups
        attached = []
        for label, group, port in groups:
            attachment = aws.lb.TargetGroupAttachment(
                f"{self._name}-{node_name}-{label}",
                target_group_arn=group.arn,
                target_id=instance.id,
                port=port,
                # its instance stops only once it has drained (components/drain.py)
                opts=pulumi.ResourceOptions(parent=self, hooks=pulumi.ResourceHookBinding(after_delete=[self._drain])),
            )
            attached.append((group, port, attachment))
        return attached

    @staticmethod
    def _host_is(host: str) -> aws.lb.ListenerRuleConditionArgs:
        return aws.lb.ListenerRuleConditionArgs(host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=[host]))

    def _web_acl(self, name: str, args: LoadBalancerArgs, tags: Mapping[str, str]) -> aws.wafv2.WebAcl:
        """AWS managed rule groups and a per-client-IP rate limit, in front of an old product."""
        child = pulumi.ResourceOptions(parent=self)

        def visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
            return aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
            )

        rules = [
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=priority,
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        rules.append(
            aws.wafv2.WebAclRuleArgs(
                name="rate-limit-per-client-ip",
                priority=len(rules) + 1,
                action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                        limit=args.web_acl_rate_limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=visibility("rate-limit-per-client-ip"),
            )
        )
        web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules,
            visibility_config=visibility(f"{args.label}-waf"),
            tags=dict(tags),
            opts=child,
        )
        aws.wafv2.WebAclAssociation(
            f"{name}-waf-association", resource_arn=self.alb.arn, web_acl_arn=web_acl.arn, opts=child
        )
        return web_acl

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

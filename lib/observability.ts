/**
 * What a production team watches and keeps, beside the two functions (issue 13, items 1 and 8):
 * a KMS key for their log groups, CloudWatch alarms on concurrency, errors and throttles, an
 * optional AWS Budgets alarm, and the S3 bucket of the CloudFront access logs. Each piece is a
 * plain function of a scope, so `McpAuthProxy` only decides which of them to create.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { acknowledge, inPacks } from './nag.ts';

export interface McpAuthProxyAlarmOptions {
  /**
   * Topic the alarms notify (alarm and OK).
   * @default a topic is created when `email` is given, else the alarms have no action
   */
  readonly topic?: sns.ITopic;
  /**
   * Address subscribed (email) to a topic created for the alarms; AWS sends a confirmation mail.
   * @default no subscription
   */
  readonly email?: string;
  /**
   * Alarm when a function's concurrent executions reach this share of its reserved concurrency.
   * @default 80
   */
  readonly concurrencyThresholdPercent?: number;
}

export interface McpAuthProxyBudgetOptions {
  /** Monthly cost budget of the account, in USD. */
  readonly monthlyLimitUsd: number;
  /** Address notified at 80 % of actual and 100 % of forecast cost. */
  readonly email: string;
}

/** One function to watch: its id in alarm names and its cap (undefined = unreserved). */
export interface WatchedFunction {
  readonly id: string;
  readonly fn: lambda.IFunction;
  readonly reservedConcurrency?: number;
}

/**
 * Default reserved concurrency per function: it caps what a flood of requests can cost per hour
 * (docs/deploy.md, "Concurrency") and leaves the account's other functions their share.
 */
export const DEFAULT_RESERVED_CONCURRENCY = { proxy: 50, discovery: 10 } as const;
/** Default share of the reserved concurrency at which the concurrency alarm fires. */
export const DEFAULT_CONCURRENCY_THRESHOLD_PERCENT = 80;
/** Default days the CloudFront access logs are kept. */
export const DEFAULT_ACCESS_LOG_RETENTION_DAYS = 90;

/**
 * A KMS key (yearly rotation) for the functions' log groups. CloudWatch Logs, the service principal
 * of this region, may use it only for log groups of this account and region whose names start
 * with the stack's name (CloudFormation names the log groups `<stack>-<logical id>-<suffix>`).
 */
export function addLogKey(scope: Construct, id: string): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, id, {
    description: `MCP auth proxy ${stack.stackName}: CloudWatch Logs of both functions`,
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisStack',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${stack.stackName}-*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  return key;
}

/** The alarms' topic: the given one, one created for `email`, or none (alarms without action). */
function alarmTopic(scope: Construct, opts: McpAuthProxyAlarmOptions): sns.ITopic | undefined {
  if (opts.topic) return opts.topic;
  if (!opts.email) return undefined;
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: `MCP auth proxy alarms (${Stack.of(scope).stackName})`,
    enforceSSL: true,
  });
  topic.addSubscription(new subscriptions.EmailSubscription(opts.email));
  acknowledge(
    topic,
    ['AwsSolutions-SNS2', ...inPacks('SNSEncryptedKMS')],
    'The topic carries only CloudWatch alarm state changes (alarm name, metric, threshold), no request data; the AWS managed aws/sns key would not let CloudWatch publish, and a customer key costs a monthly fee.',
  );
  acknowledge(
    topic,
    ['Serverless-SNSRedrivePolicy'],
    'An e-mail subscription for alarm notifications: a dead-letter queue would keep undelivered notifications where nobody reads them, while the alarm state stays in CloudWatch.',
  );
  return topic;
}

/**
 * Per function: concurrency near its reservation (only when it has one), any error, any throttle.
 * Each alarm notifies `topic` on ALARM and OK.
 */
export function addAlarms(
  scope: Construct,
  functions: readonly WatchedFunction[],
  opts: McpAuthProxyAlarmOptions,
): { topic?: sns.ITopic; alarms: cloudwatch.Alarm[] } {
  const topic = alarmTopic(scope, opts);
  const percent = opts.concurrencyThresholdPercent ?? DEFAULT_CONCURRENCY_THRESHOLD_PERCENT;
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
    const a = new cloudwatch.Alarm(scope, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    if (topic) {
      a.addAlarmAction(new actions.SnsAction(topic));
      a.addOkAction(new actions.SnsAction(topic));
    } else {
      acknowledge(
        a,
        inPacks('CloudWatchAlarmAction'),
        'No notification target is configured (deploy.alarms.email or deploy.alarms.sns_topic_arn); the alarm still records its state in CloudWatch, where dashboards and other tooling can read it.',
      );
    }
    alarms.push(a);
  };
  const period = Duration.minutes(5);
  for (const { id, fn, reservedConcurrency: cap } of functions) {
    if (cap !== undefined) {
      alarm(
        `${id}ConcurrencyAlarm`,
        fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period }),
        Math.max(1, Math.ceil((cap * percent) / 100)),
        `${id} function: concurrent executions reached ${percent} % of its reserved concurrency (${cap}); beyond it requests get 429`,
      );
    }
    alarm(`${id}ErrorsAlarm`, fn.metricErrors({ period }), 1, `${id} function: invocations failed (Errors)`);
    alarm(
      `${id}ThrottlesAlarm`,
      fn.metricThrottles({ period }),
      1,
      `${id} function: requests refused for lack of concurrency (Throttles)`,
    );
  }
  return { topic, alarms };
}

/** An AWS Budgets cost budget for the whole account, emailing at 80 % actual and 100 % forecast. */
export function addBudget(scope: Construct, opts: McpAuthProxyBudgetOptions): budgets.CfnBudget {
  const subscribers = [{ subscriptionType: 'EMAIL', address: opts.email }];
  return new budgets.CfnBudget(scope, 'Budget', {
    budget: {
      budgetType: 'COST',
      timeUnit: 'MONTHLY',
      budgetLimit: { amount: opts.monthlyLimitUsd, unit: 'USD' },
    },
    notificationsWithSubscribers: [
      {
        notification: {
          notificationType: 'ACTUAL',
          comparisonOperator: 'GREATER_THAN',
          threshold: 80,
          thresholdType: 'PERCENTAGE',
        },
        subscribers,
      },
      {
        notification: {
          notificationType: 'FORECASTED',
          comparisonOperator: 'GREATER_THAN',
          threshold: 100,
          thresholdType: 'PERCENTAGE',
        },
        subscribers,
      },
    ],
  });
}

/**
 * The bucket of the CloudFront standard logs: SSE-S3 (SSE-KMS would need a key policy for
 * CloudFront's log delivery), no public access, TLS only, ACLs enabled (standard logging grants
 * its log delivery access through an ACL), objects expired after `retentionDays`.
 */
export function addAccessLogBucket(scope: Construct, retentionDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [
      { expiration: Duration.days(retentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });
  acknowledge(
    bucket,
    ['AwsSolutions-S1', ...inPacks('S3BucketLoggingEnabled')],
    'This bucket receives the CloudFront access logs; logging its own accesses into another bucket would need a bucket for that bucket, and so on. CloudTrail records its management events.',
  );
  acknowledge(
    bucket,
    inPacks('S3BucketVersioningEnabled'),
    'Log files are written once by CloudFront and expired by the lifecycle rule; versions would only keep expired logs longer.',
  );
  acknowledge(
    bucket,
    inPacks('S3BucketReplicationEnabled'),
    "Access logs are diagnostic data kept for a bounded time; a replica in another region would double their cost and is the operator's choice.",
  );
  acknowledge(
    bucket,
    inPacks('S3DefaultEncryptionKMS'),
    'Encrypted with SSE-S3: CloudFront standard logging delivers to SSE-KMS buckets only with a key policy for its log delivery, and the logs hold no credential usable alone (token requests are POST bodies, which are not logged; an authorization code in a /callback query is single-use and bound by PKCE to the client).',
  );
  return bucket;
}

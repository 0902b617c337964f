import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * The CloudWatch namespace of pixfront's metrics: the bootstrap prints one Embedded Metric Format
 * line per invocation (src/telemetry/emf.rs), with the dimension `FunctionName`. A labelled
 * series is published as `name.label=value` (docs/operations.md).
 */
export const METRICS_NAMESPACE = 'pixfront';

export interface PixfrontMonitoringProps {
  /** The image function (its EMF metrics and Lambda's own). */
  readonly function: lambda.IFunction;
  /** The upload pipeline's function, when there is one: its records and throttles. */
  readonly uploadFunction?: lambda.IFunction;
  /** Alarms created elsewhere to show on the dashboard (the upload pipeline's DLQ alarm). */
  readonly extraAlarms?: cloudwatch.IAlarm[];
  /** 5xx answers in percent of image requests that raise the alarm. @default 5 */
  readonly errorRatePercent?: number;
  /** @default 'pixfront-<stack name>' (CloudFormation generates one when omitted) */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);

/** An EMF metric of `fn` (a counter is summed; a latency takes `statistic`). */
export function pixfrontMetric(fn: lambda.IFunction, name: string, statistic = 'Sum', label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { FunctionName: fn.functionName },
    statistic,
    period: PERIOD,
    label,
  });
}

/**
 * A small dashboard (requests by status class, 5xx rate, latency per stage, overload, faces,
 * Lambda throttles and errors, the upload pipeline) and alarms on the 5xx rate and on throttles.
 * No alarm action is attached: add your SNS topic to `alarms`.
 */
export class PixfrontMonitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** In alarm when 5xx answers exceed `errorRatePercent` of requests for 3 periods of 5 minutes. */
  readonly errorRateAlarm: cloudwatch.Alarm;
  /** In alarm when Lambda throttled any invocation of the image (or upload) function in 5 minutes. */
  readonly throttleAlarm: cloudwatch.Alarm;
  readonly alarms: cloudwatch.IAlarm[];

  constructor(scope: Construct, id: string, props: PixfrontMonitoringProps) {
    super(scope, id);
    const fn = props.function;
    const m = (name: string, statistic?: string, label?: string) => pixfrontMetric(fn, name, statistic, label);
    const requests = m('pixfront_requests_total', 'Sum', 'requests');
    const classes = ['2xx', '3xx', '4xx', '5xx'].map((c) => m(`pixfront_requests_total.status=${c}`, 'Sum', c));
    const errorRate = new cloudwatch.MathExpression({
      // No traffic is no error: FILL keeps the rate at 0 instead of missing.
      expression: '100 * FILL(e5, 0) / IF(FILL(all, 0) > 0, FILL(all, 0), 1)',
      usingMetrics: { e5: classes[3], all: requests },
      label: '5xx %',
      period: PERIOD,
    });
    this.errorRateAlarm = new cloudwatch.Alarm(this, 'ErrorRateAlarm', {
      alarmDescription: 'pixfront: too many 5xx answers (see pixfront_errors_total.code=* and the function log)',
      metric: errorRate,
      threshold: props.errorRatePercent ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const throttled = [fn, ...(props.uploadFunction ? [props.uploadFunction] : [])].map((f, i) =>
      f.metricThrottles({ period: PERIOD, statistic: 'Sum', label: i === 0 ? 'image function' : 'upload function' }),
    );
    const throttles =
      throttled.length === 1
        ? throttled[0]
        : new cloudwatch.MathExpression({
            expression: 'FILL(t0, 0) + FILL(t1, 0)',
            usingMetrics: { t0: throttled[0], t1: throttled[1] },
            label: 'throttles',
            period: PERIOD,
          });
    this.throttleAlarm = new cloudwatch.Alarm(this, 'ThrottleAlarm', {
      alarmDescription: 'pixfront: Lambda throttled invocations (reserved or account concurrency reached)',
      metric: throttles,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [this.errorRateAlarm, this.throttleAlarm, ...(props.extraAlarms ?? [])];

    const stages = ['total', 'fetch', 'queue', 'faces', 'decode', 'transform', 'encode'];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Requests by status class', left: classes, stacked: true, width: 8 }),
      new cloudwatch.GraphWidget({ title: '5xx rate (%)', left: [errorRate], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Latency p99 per stage (s)',
        left: stages.map((s) => m(`pixfront_request_duration_seconds.stage=${s}`, 'p99', s)),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Overload and faces',
        left: [
          m('pixfront_overloaded_total', 'Sum', '503 Overloaded'),
          m('pixfront_face_cache_total.result=hit', 'Sum', 'face cache hit'),
          m('pixfront_face_cache_total.result=miss', 'Sum', 'face cache miss'),
          m('pixfront_face_detector_failures_total', 'Sum', 'detector failures'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes',
        left: [m('pixfront_original_bytes_total', 'Sum', 'originals'), m('pixfront_response_bytes_total', 'Sum', 'answers')],
        right: [m('pixfront_process_resident_bytes', 'Maximum', 'resident memory (max)')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda',
        left: [
          fn.metricInvocations({ period: PERIOD, statistic: 'Sum' }),
          fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          ...throttled,
        ],
        right: [fn.metricDuration({ period: PERIOD, statistic: 'p99' })],
        width: 8,
      }),
    );
    if (props.uploadFunction) {
      const up = props.uploadFunction;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Upload pipeline records',
          left: ['rendered', 'acknowledged', 'retried'].map((o) =>
            pixfrontMetric(up, `pixfront_upload_records_total.outcome=${o}`, 'Sum', o),
          ),
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Upload pipeline S3 calls',
          left: ['ok', 'not_found', 'error'].map((o) =>
            pixfrontMetric(up, `pixfront_aws_calls_total.outcome=${o}`, 'Sum', `S3/Rekognition ${o}`),
          ),
          width: 12,
        }),
      );
    }
  }
}

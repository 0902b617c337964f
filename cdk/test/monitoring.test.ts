import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/context';
import { RENDITIONS_EXAMPLE } from '../lib/doc-templates';
import { METRICS_NAMESPACE } from '../lib/monitoring';
import { PixfrontStack, PixfrontStackProps } from '../lib/stack';

const synth = (props: PixfrontStackProps = {}) => Template.fromStack(new PixfrontStack(new App(), 'Test', props));

/** The logical ID of the one resource of `type` whose ID starts with `prefix`. */
function idOf(t: Template, type: string, prefix: string): string {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The metrics of an alarm's math expression, by id. */
function mathMetrics(alarm: any): Record<string, any> {
  return Object.fromEntries(
    (alarm.Properties.Metrics as any[]).filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat.Metric]),
  );
}

describe('monitoring (default on)', () => {
  const t = synth({ pixfront: { sourceBuckets: ['my-originals'] } });
  const fnId = idOf(t, 'AWS::Lambda::Function', 'Pixfront');
  const alarms = t.findResources('AWS::CloudWatch::Alarm');

  test('a 5xx-rate alarm on the EMF metrics of the image function', () => {
    const [alarm] = Object.entries(alarms)
      .filter(([id]) => id.includes('ErrorRateAlarm'))
      .map(([, a]) => a);
    expect(alarm.Properties).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    const expression = (alarm.Properties.Metrics as any[]).find((q) => q.Expression);
    expect(expression.Expression).toContain('e5');
    expect(expression.ReturnData).not.toBe(false);
    const metrics = mathMetrics(alarm);
    for (const [id, name] of [
      ['e5', 'pixfront_requests_total.status=5xx'],
      ['all', 'pixfront_requests_total'],
    ]) {
      expect(metrics[id]).toEqual({
        Namespace: METRICS_NAMESPACE,
        MetricName: name,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      });
    }
  });

  test('a throttle alarm on Lambda throttles of the image function', () => {
    const [alarm] = Object.entries(alarms)
      .filter(([id]) => id.includes('ThrottleAlarm'))
      .map(([, a]) => a);
    expect(alarm.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
    expect(Object.values(mathMetrics(alarm))).toEqual([
      { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }] },
    ]);
    expect(Object.keys(alarms)).toHaveLength(2);
  });

  test('a dashboard with requests, latency per stage and Lambda graphs, named in the outputs', () => {
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    for (const needle of [
      'pixfront_requests_total.status=2xx',
      'pixfront_request_duration_seconds.stage=total',
      'pixfront_request_duration_seconds.stage=decode',
      'pixfront_overloaded_total',
      'pixfront_face_cache_total.result=hit',
      'Throttles',
    ]) {
      expect(body).toContain(needle);
    }
    expect(body).not.toContain('pixfront_upload_records_total');
    t.hasOutput('DashboardName', { Value: { Ref: Match.stringLikeRegexp('^MonitoringDashboard') } });
  });
});

describe('monitoring with the upload pipeline', () => {
  const t = Template.fromStack(
    buildApp(new App({ context: { uploadPipeline: 'Yes', renditions: RENDITIONS_EXAMPLE } })),
  );

  test('the dashboard shows the DLQ alarm and the pipeline records; throttles of both functions alarm', () => {
    const body = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect(body).toContain('pixfront_upload_records_total.outcome=retried');
    const dlq = idOf(t, 'AWS::CloudWatch::Alarm', 'UploadPipelineDeadLetterAlarm');
    expect(body).toContain(dlq);
    const throttle = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).find(([id]) => id.includes('ThrottleAlarm'))![1];
    const metrics = Object.values(mathMetrics(throttle));
    expect(metrics.map((m) => m.MetricName)).toEqual(['Throttles', 'Throttles']);
  });
});

test('-c monitoring=No leaves them out', () => {
  const t = Template.fromStack(buildApp(new App({ context: { monitoring: 'No' } })));
  t.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
});

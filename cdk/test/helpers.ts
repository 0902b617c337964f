import { Template } from 'aws-cdk-lib/assertions';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
  Condition?: unknown;
}

/** Every statement of the identity policies attached to the role whose logical ID starts with `rolePrefix`. */
export function roleStatements(t: Template, rolePrefix: string): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every statement of every identity policy in the template. */
export function allStatements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

export const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** The variables of the one function whose logical ID starts with `prefix`. */
export function functionProps(t: Template, prefix: string): Record<string, any> {
  const fns = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith(prefix));
  expect(fns).toHaveLength(1);
  return fns[0][1].Properties;
}

/** `arn:${Partition}:s3:::<rest>` as CDK renders it for a bucket given by name. */
export const s3Arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${rest}`]] });

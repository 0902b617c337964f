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

/**
 * A dependency cycle among the template's resources (Ref, Fn::GetAtt, DependsOn), as the list of
 * logical IDs, or undefined. CloudFormation refuses such a template at deploy time only.
 */
export function dependencyCycle(t: Template): string[] | undefined {
  const resourcesById = t.toJSON().Resources as Record<string, { DependsOn?: string | string[] }>;
  const edges = new Map<string, Set<string>>();
  const refs = (node: unknown, out: Set<string>) => {
    if (Array.isArray(node)) node.forEach((n) => refs(n, out));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Ref' && typeof v === 'string' && v in resourcesById) out.add(v);
        else if (k === 'Fn::GetAtt' && Array.isArray(v) && v[0] in resourcesById) out.add(v[0]);
        else refs(v, out);
      }
    }
  };
  for (const [id, r] of Object.entries(resourcesById)) {
    const out = new Set<string>();
    refs({ ...r, DependsOn: undefined }, out);
    for (const d of [r.DependsOn ?? []].flat()) out.add(d);
    edges.set(id, out);
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}

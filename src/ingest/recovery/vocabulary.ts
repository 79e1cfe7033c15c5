// The backup and recovery vocabulary: four actions (audit events) or event names (OTLP log
// records) and their attributes, checked against attributes.schema.json. The audit event
// schema refers to the same definitions, so both ways in accept exactly the same facts and
// refuse the same mistakes with the same words.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import schema from './attributes.schema.json' with { type: 'json' };

/** The actions (and OTLP event names) that carry backup and recovery facts. */
export const RECOVERY_ACTIONS = ['backup.completed', 'backup.failed', 'restore.tested', 'failover.tested'] as const;
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];

/** The components a recovery covers (defined with the registry's objectives, which name them too). */
export { RECOVERY_COMPONENTS } from '../../config/types.js';

const ACTIONS: ReadonlySet<string> = new Set(RECOVERY_ACTIONS);

/** Whether an action or event name is one of the vocabulary's. */
export function isRecoveryAction(name: string): name is RecoveryAction {
  return ACTIONS.has(name);
}

/** The schema's id, for schemas that refer to its definitions. */
export const RECOVERY_SCHEMA_ID = schema.$id;

/** Make the vocabulary's definitions known to an ajv instance (before compiling a schema that refers to them). */
export function addRecoverySchema(ajv: Ajv2020): void {
  if (!ajv.getSchema(schema.$id)) ajv.addSchema(schema);
}

/** One schema error in words: where, and what was expected there (the schema's description of it). */
export function describeRecoveryError(e: ErrorObject, where: string): string | undefined {
  if (e.keyword === 'false schema') return `${where}: only platform-scope facts name tiers or regions (this one has scope "tenant")`;
  // Only errors of the vocabulary's definitions (or of the event schema's rules for its actions).
  if (!e.schemaPath.startsWith(schema.$id) && !e.schemaPath.startsWith('#/allOf') && !e.schemaPath.startsWith('#/$defs')) return undefined;
  const p = e.params as Record<string, unknown>;
  const expected = (e.parentSchema as { description?: string } | undefined)?.description;
  if (e.keyword === 'if' || e.keyword === 'allOf') return undefined;
  if (e.keyword === 'const') return `${where}: must be ${JSON.stringify(p.allowedValue)} for this action`;
  if (e.keyword === 'pattern' && expected !== undefined) return `${where}: must be ${expected}`;
  if (e.keyword === 'enum' && expected !== undefined) return `${where}: must be ${expected}`;
  return undefined;
}

/**
 * Checks the attributes of OTLP log records named for a recovery action (an audit event's are
 * checked by the event schema, which refers to the same definitions).
 */
export class RecoveryAttributeValidator {
  readonly #byAction = new Map<string, ValidateFunction>();

  constructor() {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
    addRecoverySchema(ajv);
    for (const a of RECOVERY_ACTIONS) this.#byAction.set(a, ajv.getSchema(`${schema.$id}#/$defs/${a}`)!);
  }

  /** Every problem of one log record's attributes, worded with `attributes.<name>`; undefined when valid. */
  errors(action: RecoveryAction, attributes: Readonly<Record<string, string>>): string[] | undefined {
    const validate = this.#byAction.get(action)!;
    const problems: string[] = [];
    if (!validate(attributes)) {
      for (const e of validate.errors ?? []) {
        const where = e.instancePath === '' ? 'attributes' : `attributes.${e.instancePath.slice(1).replace(/~1/g, '/').replace(/~0/g, '~')}`;
        if (e.keyword === 'required') problems.push(`attributes: missing required attribute ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}`);
        else {
          const worded = describeRecoveryError(e, where);
          if (worded !== undefined) problems.push(worded);
          else if (e.keyword !== 'if' && e.keyword !== 'allOf') problems.push(`${where}: ${e.message ?? e.keyword}`);
        }
      }
    }
    // A log record has no outcome field of its own: a test's outcome must be said.
    if ((action === 'restore.tested' || action === 'failover.tested') && attributes.outcome === undefined) {
      problems.push('attributes: missing required attribute "outcome" (success or failure)');
    }
    return problems.length > 0 ? problems : undefined;
  }
}

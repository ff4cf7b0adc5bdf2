import { CaseChecks, type CheckResult } from './checks.js';
import type { CasePrompt } from './outcomes.js';
import { CaseAttachments, type Attachment, type AttachmentContent } from './attachments.js';
import { CaseMeasurements, type MeasuredValue, type MeasurementDeclaration, type MeasurementResult, type ResolvedDeclaration } from './measurements.js';

/**
 * What one attempt of a case records besides its outcome: measurements,
 * checks and attachments. Built lazily, so a case that records nothing costs nothing.
 */
export class CaseEvidence {
  private measurementSet: CaseMeasurements | undefined;
  private attachmentSet: CaseAttachments | undefined;
  private checkSet: CaseChecks | undefined;
  /** ctx.prompt's questions and answers. */
  readonly prompts: CasePrompt[] = [];

  constructor(declarations: readonly ResolvedDeclaration[]) {
    if (declarations.length) this.measurementSet = new CaseMeasurements(declarations);
  }

  get measurements(): CaseMeasurements {
    return (this.measurementSet ??= new CaseMeasurements());
  }

  /** `ctx.measure`: declares the name if the case did not, then sets it. */
  measure(name: string, value: MeasuredValue, options: Omit<MeasurementDeclaration, 'name'> = {}): void {
    const set = this.measurements;
    if (!set.isDeclared(name) || Object.keys(options).length) set.declare({ ...options, name, limitsSource: 'code' });
    set.set(name, value);
  }

  get checks(): CaseChecks {
    return (this.checkSet ??= new CaseChecks());
  }

  attach(name: string, content: AttachmentContent, mimeType?: string): void {
    (this.attachmentSet ??= new CaseAttachments()).attach(name, content, mimeType);
  }

  results(): { measurements?: MeasurementResult[]; attachments?: Attachment[]; checks?: CheckResult[]; prompts?: CasePrompt[] } {
    const checks = this.checkSet?.rows.length ? this.checkSet.rows : undefined;
    return { measurements: this.measurementSet?.results(), attachments: this.attachmentSet?.list, checks, prompts: this.prompts.length ? this.prompts : undefined };
  }

  /** The declared measurements of a case that did not run. */
  static notRun(declarations: readonly ResolvedDeclaration[]): MeasurementResult[] | undefined {
    return declarations.length ? new CaseMeasurements(declarations).results(true) : undefined;
  }
}

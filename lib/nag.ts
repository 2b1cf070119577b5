/**
 * cdk-nag acknowledgements, in one place: the packs beside AwsSolutions whose rules share names
 * (lib/app.ts applies all four), and the one way a finding is acknowledged with its reason.
 */
import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** The packs beside AwsSolutions and Serverless whose rule ids are `<pack>-<rule>`. */
export const SHARED_PACKS = ['NIST.800.53.R5', 'HIPAA.Security'] as const;

/** `rule` as each shared pack names it (`NIST.800.53.R5-<rule>`, `HIPAA.Security-<rule>`). */
export function inPacks(rule: string): string[] {
  return SHARED_PACKS.map((p) => `${p}-${rule}`);
}

/** Acknowledge each finding id on `on` with the same reason. */
export function acknowledge(on: Construct, ids: readonly string[], reason: string): void {
  for (const id of ids) Validations.of(on).acknowledge({ id, reason });
}

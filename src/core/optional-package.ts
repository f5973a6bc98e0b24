// The heavy runtimes medeval uses for only some kinds of work are optional peer dependencies: a plain
// `npm install medeval` leaves them out (a user of the server runners or llama.cpp pays for none of
// them), and they are imported when that work starts. When one is missing the user is told which package
// to install and with what command (exit 2), instead of Node's "Cannot find package".
import { InputError } from './errors.js';

/** Each optional package, the version medeval is tested with, and what needs it. */
export const OPTIONAL_PACKAGES = {
  'onnxruntime-node': { version: '1.30.0', neededFor: 'the onnxruntime runner (kind: onnx)' },
  '@huggingface/transformers': { version: '4.3.1', neededFor: "the onnxruntime runner's tokenizer and chat template (kind: onnx)" },
  '@napi-rs/canvas': { version: '1.1.1', neededFor: 'the PNG and SVG charts of a report (charts/)' },
} as const;

export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** The command that installs one optional package at the version medeval is tested with. */
export function installCommand(name: OptionalPackage): string {
  return `npm install ${name}@${OPTIONAL_PACKAGES[name].version}`;
}

/** An optional package that is not installed: what needs it and how to install it. Exit code 2. */
export class MissingPackageError extends InputError {
  readonly packageName: OptionalPackage;
  constructor(name: OptionalPackage) {
    super(`${OPTIONAL_PACKAGES[name].neededFor} needs the package ${name}, which is not installed`, {},
      `install it beside medeval: ${installCommand(name)}`);
    this.name = 'MissingPackageError';
    this.packageName = name;
  }
}

/** True when `e` is Node's "cannot find" for the package itself (not for a file or a package it imports). */
export function isMissingPackage(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' && err?.code !== 'MODULE_NOT_FOUND') return false;
  return new RegExp(`Cannot find (package|module) '${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`).test(String(err.message));
}

/**
 * Imports an optional package with `load` (a literal `() => import('name')`, so types and bundlers see
 * it); a missing package becomes a MissingPackageError, any other failure (a broken native binary) is
 * passed on as it is.
 */
export async function importOptional<T>(name: OptionalPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingPackage(e, name)) throw new MissingPackageError(name);
    throw e;
  }
}

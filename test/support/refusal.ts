/** The HarnessError a call throws (libvirt's refusal, a bad input); any other outcome fails the test. */
import { HarnessError } from "../../harness/errors.js";

export function refusal(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

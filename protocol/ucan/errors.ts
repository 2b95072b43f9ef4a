/**
 * UCAN validation errors, named as in the UCAN 1.0 specifications and
 * their fixtures (InvalidSignature, Expired, TooEarly, InvalidAudience,
 * InvalidSubject, UnavailableProof, InvalidClaim, MatchError, Revoked…).
 * Each says which token failed (`cid`, and `link`: its index in the proof
 * chain, root first; -1 for the invocation itself) and why.
 */
import type { ErrorCode } from "../error-codes.ts";
import { WeftError } from "../errors.ts";

export type UcanErrorName =
  | "MalformedToken"
  | "UnsupportedVarsig"
  | "InvalidPayload"
  | "InvalidSignature"
  | "InvalidPolicy"
  | "InvalidCommand"
  | "Expired"
  | "TooEarly"
  | "InvalidAudience"
  | "InvalidSubject"
  | "UnavailableProof"
  | "InvalidClaim"
  | "MatchError"
  | "Revoked"
  | "InvalidRevocation";

const CODES: Record<UcanErrorName, ErrorCode> = {
  MalformedToken: "ucan/malformed",
  UnsupportedVarsig: "ucan/unsupported-varsig",
  InvalidPayload: "ucan/invalid-payload",
  InvalidSignature: "ucan/invalid-signature",
  InvalidPolicy: "ucan/invalid-policy",
  InvalidCommand: "ucan/invalid-command",
  Expired: "ucan/expired",
  TooEarly: "ucan/too-early",
  InvalidAudience: "ucan/invalid-audience",
  InvalidSubject: "ucan/invalid-subject",
  UnavailableProof: "ucan/unavailable-proof",
  InvalidClaim: "ucan/invalid-claim",
  MatchError: "ucan/match-error",
  Revoked: "ucan/revoked",
  InvalidRevocation: "ucan/invalid-revocation",
};

export interface UcanErrorContext {
  /** CID (string) of the token at fault, when known. */
  cid?: string;
  /** Position in the proof chain, root first; -1 is the invocation. */
  link?: number;
  cause?: unknown;
}

export class UcanError extends WeftError {
  declare readonly name: UcanErrorName;
  readonly cid?: string;
  readonly link?: number;

  constructor(name: UcanErrorName, message: string, context: UcanErrorContext = {}) {
    const where = context.link === undefined
      ? ""
      : context.link === -1
      ? "invocation: "
      : `proof ${context.link}${context.cid ? ` (${context.cid})` : ""}: `;
    super(name, CODES[name], where + message, { cause: context.cause });
    this.cid = context.cid;
    this.link = context.link;
  }
}

// A small typed Latchkey client over the generated operations (src/generated/graphql.ts,
// made by `npm run codegen` from schema.graphql and operations/*.graphql). Every method's
// arguments and result are the generated types, so a schema change that breaks a client
// breaks `tsc` here first.

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, print } from 'graphql';

import {
  AddAuthHeaderDocument,
  AuthHeadersDocument,
  AuthPolicyDocument,
  ChangePasswordDocument,
  ConfirmTotpDocument,
  DeleteAuthHeaderDocument,
  DisableTotpDocument,
  EnrollTotpDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  ReauthenticateDocument,
  RefreshDocument,
  RegisterDocument,
  RevokeSessionDocument,
  SessionsDocument,
  UserDocument,
  type AddAuthHeaderMutation,
  type AuthHeaderFieldsFragment,
  type AuthPayloadFieldsFragment,
  type AuthPolicyQuery,
  type ChangePasswordInput,
  type EnrollTotpMutation,
  type LoginInput,
  type ReauthenticateMutation,
  type RegisterInput,
  type SessionsQuery,
  type TokenMode,
  type UserFieldsFragment,
} from './generated/graphql.js';

/** One entry of a GraphQL `errors` array, with Latchkey's extensions. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; status?: number; field?: string; retryAfter?: number };
}

/** An answer carrying `errors`: `code` and `status` are the first error's extensions. */
export class LatchkeyError extends Error {
  readonly code: string | undefined;
  readonly status: number | undefined;

  constructor(readonly errors: readonly GraphQLErrorEntry[], readonly httpStatus: number) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${httpStatus}`);
    this.name = 'LatchkeyError';
    this.code = errors[0]?.extensions?.code;
    this.status = errors[0]?.extensions?.status;
  }
}

/** Operations without variables take none; the others require theirs. */
type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

export interface ClientOptions {
  /** Extra headers on every request (an `x-api-key`, say). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/**
 * A client for servers, CLIs and tests: logs in in `JSON` mode, keeps the tokens in memory,
 * and sends the access token (or a personal `lk_` token) as `Authorization: Bearer`.
 */
export class LatchkeyClient {
  /** Sent as `Authorization: Bearer` when set: an access token or a personal token. */
  accessToken: string | null = null;
  refreshToken: string | null = null;

  constructor(
    readonly url: string,
    private readonly options: ClientOptions = {},
  ) {}

  /** Runs one generated operation; throws `LatchkeyError` when the answer has errors. */
  async request<R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArg<V>): Promise<R> {
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
      ...this.options.headers,
    };
    if (this.accessToken !== null) {
      headers.authorization = `Bearer ${this.accessToken}`;
    }
    const response = await (this.options.fetch ?? fetch)(this.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: print(document), operationName: operation?.name?.value, variables }),
    });
    const body = (await response.json()) as { data?: R | null; errors?: GraphQLErrorEntry[] };
    if (body.errors !== undefined && body.errors.length > 0) {
      throw new LatchkeyError(body.errors, response.status);
    }
    if (body.data === undefined || body.data === null) {
      throw new LatchkeyError([], response.status);
    }
    return body.data;
  }

  register(input: RegisterInput): Promise<UserFieldsFragment> {
    return this.request(RegisterDocument, { input }).then((d) => d.register);
  }

  /** Logs in (JSON mode unless `input.mode` says otherwise) and keeps the tokens. */
  async login(input: LoginInput): Promise<AuthPayloadFieldsFragment> {
    const { login } = await this.request(LoginDocument, { input });
    this.keep(login);
    return login;
  }

  me(): Promise<UserFieldsFragment> {
    return this.request(MeDocument).then((d) => d.me);
  }

  /** Exchanges the kept refresh token for new tokens (it is rotated: the old one is spent). */
  async refresh(mode?: TokenMode): Promise<AuthPayloadFieldsFragment> {
    const { refresh } = await this.request(RefreshDocument, { refreshToken: this.refreshToken, mode });
    this.keep(refresh);
    return refresh;
  }

  /** Ends the kept refresh token's session (or all of the user's); forgets the tokens. */
  async logout(allSessions = false): Promise<boolean> {
    const { logout } = await this.request(LogoutDocument, { refreshToken: this.refreshToken, allSessions });
    this.accessToken = null;
    this.refreshToken = null;
    return logout;
  }

  /** Yourself, or anyone if you are an admin; null when there is no such user. */
  user(username: string): Promise<UserFieldsFragment | null> {
    return this.request(UserDocument, { username }).then((d) => d.user);
  }

  /** The rules in force (public: needs no token). */
  authPolicy(): Promise<AuthPolicyQuery['authPolicy']> {
    return this.request(AuthPolicyDocument).then((d) => d.authPolicy);
  }

  changePassword(input: ChangePasswordInput): Promise<boolean> {
    return this.request(ChangePasswordDocument, { input }).then((d) => d.changePassword);
  }

  enrollTotp(): Promise<EnrollTotpMutation['enrollTotp']> {
    return this.request(EnrollTotpDocument).then((d) => d.enrollTotp);
  }

  /** Turns TOTP on; returns the recovery codes, shown this once. */
  confirmTotp(otp: string): Promise<string[]> {
    return this.request(ConfirmTotpDocument, { otp }).then((d) => d.confirmTotp);
  }

  disableTotp(password: string, otp: string): Promise<boolean> {
    return this.request(DisableTotpDocument, { password, otp }).then((d) => d.disableTotp);
  }

  sessions(): Promise<SessionsQuery['sessions']> {
    return this.request(SessionsDocument).then((d) => d.sessions);
  }

  /** Proves the password again in this session, so step-up operations work for `reauth_window`. */
  reauthenticate(password: string, otp?: string): Promise<ReauthenticateMutation['reauthenticate']> {
    return this.request(ReauthenticateDocument, { password, otp }).then((d) => d.reauthenticate);
  }

  revokeSession(id: string): Promise<boolean> {
    return this.request(RevokeSessionDocument, { id }).then((d) => d.revokeSession);
  }

  authHeaders(): Promise<AuthHeaderFieldsFragment[]> {
    return this.request(AuthHeadersDocument).then((d) => d.authHeaders);
  }

  /** Makes a personal token; `token` is in this answer only. */
  addAuthHeader(name: string, expiresAt?: Date): Promise<AddAuthHeaderMutation['addAuthHeader']> {
    return this.request(AddAuthHeaderDocument, { name, expiresAt: expiresAt?.toISOString() }).then(
      (d) => d.addAuthHeader,
    );
  }

  deleteAuthHeader(which: { id: string } | { token: string }): Promise<boolean> {
    return this.request(DeleteAuthHeaderDocument, which).then((d) => d.deleteAuthHeader);
  }

  private keep(payload: AuthPayloadFieldsFragment): void {
    this.accessToken = payload.accessToken;
    this.refreshToken = payload.refreshToken;
  }
}

export interface GitIdentity {
  name: string;
  email: string;
}

/**
 * Environment that pins author and committer for one git command. Environment variables
 * beat every config file, so a commit made with these never depends on the machine's
 * git settings (CI machines often have none).
 */
export function gitIdentityEnv(identity: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
  };
}

//! Turning two-factor authentication on and off: `enrollTotp`, `confirmTotp`,
//! `disableTotp`.

use super::factor::Enrollment;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::email::kind::MailKind;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::passwords::password::Password;
use crate::auth::principal::Principal;
use crate::auth::proof::Claim;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::sessions::step_up::StepUp;
use crate::auth::throttle::address_budget::ThrottledAction;
use crate::auth::throttle::gate::FailureEvents;
use crate::store::auth_events::Journal;

impl Authenticator {
    /// Issues a fresh secret and stores it as pending, replacing a pending one. Refused
    /// while TOTP is on. Only a logged-in session may enrol: a leaked personal token could
    /// otherwise turn TOTP on with a secret of its holder's and lock the owner out; and
    /// only with a recent authentication (step-up), for the same reason with a stolen
    /// access token.
    pub async fn enroll_totp(
        &self,
        who: &Principal,
        step_up: StepUp,
    ) -> Result<Enrollment, AuthError> {
        if who.session_id().is_none() {
            return Err(AuthError::Forbidden(
                "a personal token cannot enrol TOTP: log in to enrol",
            ));
        }
        self.require_recent_authentication(who, step_up).await?;
        let row = self.accounts.existing(who.user_id).await?;
        self.totp.enroll(row.id, &row.username, self.now()).await
    }

    /// Checks a code against the pending secret and turns TOTP on. Returns the recovery
    /// codes, as shown to the user: the only time they exist in the clear. Needs a recent
    /// authentication (step-up) like `enroll_totp`: whoever confirms holds the codes.
    pub async fn confirm_totp(
        &self,
        who: &Principal,
        otp: &SecretString,
        step_up: StepUp,
        client: &ClientMeta,
    ) -> Result<Vec<SecretString>, AuthError> {
        let ip = step_up.client.ip.clone();
        self.require_recent_authentication(who, step_up).await?;
        self.throttle
            .charge(ThrottledAction::Totp, ip.as_deref(), self.now())?;
        let now = self.now();
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::TotpEnabled, now)
                .user(who.user_id)
                .session(who.session_id())
                .client(client),
        );
        let codes = self
            .totp
            .confirm(who.user_id, otp.expose_secret(), &mut journal, now)
            .await?;
        self.publish(journal);
        self.send_notice(who.user_id, MailKind::TotpEnabled).await;
        Ok(codes)
    }

    /// Turns TOTP off, given the password and a current code (or a recovery code), and
    /// deletes the recovery codes. The password and code it always asks for are the
    /// step-up proof, so it works however long ago the session logged in. `false` when TOTP was not on (a pending enrolment is
    /// discarded all the same).
    pub async fn disable_totp(
        &self,
        who: &Principal,
        password: SecretString,
        otp: &SecretString,
        client: &ClientMeta,
    ) -> Result<bool, AuthError> {
        let ip = client.ip.as_deref();
        // Guessing the password or a code here is guessing a login credential: the same
        // per-address budget and account lock apply.
        self.throttle
            .charge(ThrottledAction::Totp, ip, self.now())?;
        let password = Password::presented(password, "password")?;
        let account = self.accounts.existing(who.user_id).await?;
        self.prove(Claim {
            account: Some(account),
            throttle_key: who.user_id,
            password: &password,
            otp: Some(otp.expose_secret()),
            ip,
            passkey: None,
            failure_events: FailureEvents::during(
                "disableTotp",
                Some(who.user_id),
                who.session_id(),
                client,
                self.now(),
            ),
        })
        .await?;
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::TotpDisabled, self.now())
                .user(who.user_id)
                .session(who.session_id())
                .client(client),
        );
        let was_on = self.totp.disable(who.user_id, &mut journal).await?;
        self.publish(journal);
        if was_on {
            self.send_notice(who.user_id, MailKind::TotpDisabled).await;
        }
        Ok(was_on)
    }
}

//! Authenticator models by AAGUID, for the names a passkey list shows. Best effort: an
//! AAGUID is what the authenticator says of itself (unattested with `attestation: none`),
//! fit for a label, never for a decision.

/// Models and the names their vendors publish, as listed by the community-maintained
/// passkeydeveloper/passkey-authenticator-aaguids (`aaguid.json` for passkey providers,
/// `dist/<aaguid>/meta.json` for the FIDO metadata service's security keys; read at its
/// 2026-08-07 update, MDS version 276). Only entries checked against that list are here:
/// an unknown model shows its AAGUID rather than a guessed name.
const KNOWN: &[(&str, &str)] = &[
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "Apple Passwords"),
    (
        "dd4ec289-e01d-41c9-bb89-70fa845d4bf2",
        "iCloud Keychain (Managed)",
    ),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"),
    ("50726f74-6f6e-5061-7373-50726f746f6e", "Proton Pass"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series"),
    (
        "2fc0579f-8113-47ea-b116-bb5a8db9202a",
        "YubiKey 5 Series with NFC",
    ),
];

/// The model's name for a lower-case hyphenated AAGUID, if known.
pub fn name_of(aaguid: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(known, _)| *known == aaguid)
        .map(|(_, name)| *name)
}

/// The AAGUID to keep: none for the all-zero one (an authenticator that will not say).
pub fn meaningful(aaguid: uuid::Uuid) -> Option<String> {
    (!aaguid.is_nil()).then(|| aaguid.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_models_are_named_and_others_are_not() {
        assert_eq!(
            name_of("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"),
            Some("Google Password Manager")
        );
        assert_eq!(name_of("00000000-0000-0000-0000-000000000001"), None);
    }

    #[test]
    fn the_all_zero_aaguid_says_nothing() {
        assert_eq!(meaningful(uuid::Uuid::nil()), None);
        assert_eq!(
            meaningful(uuid::Uuid::from_u128(1)).as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
    }
}

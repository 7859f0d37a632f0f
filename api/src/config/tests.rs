//! The settings' checks, seen from the operator's side.

// `figment::Jail` closures return figment's own (large) error type.
#![allow(clippy::result_large_err)]
use super::*;
use secrecy::ExposeSecret as _;

#[test]
fn defaults_are_valid_and_match_the_contract() {
    let s = Settings::from_raw(RawSettings::default()).unwrap();
    assert_eq!(s.bind, "127.0.0.1:8080");
    assert_eq!(s.access_token_ttl, Duration::from_secs(15 * 60));
    assert_eq!(s.session_ttl, Duration::from_secs(30 * 24 * 3600));
    assert_eq!(s.session_retention, Duration::from_secs(30 * 24 * 3600));
    assert_eq!(s.auth_header_max_ttl, Duration::from_secs(365 * 24 * 3600));
    assert_eq!(s.reauth_window, Duration::from_secs(5 * 60));
    assert_eq!(s.refresh_reuse_grace, Duration::from_secs(10));
    assert_eq!(s.cookies.access_name, "__Host-latchkey_access");
    assert_eq!(s.max_body_bytes, 65536);
    assert!(s.password_max_age.is_none());
}

#[test]
fn an_access_ttl_outside_ten_seconds_to_a_day_is_refused() {
    for bad in ["9s", "25h"] {
        let raw = RawSettings {
            access_token_ttl: bad.into(),
            ..RawSettings::default()
        };
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains("access_token_ttl"), "{err}");
    }
}

#[test]
fn a_reauth_window_outside_ten_seconds_to_a_day_is_refused() {
    for bad in ["9s", "25h", "soon"] {
        let raw = RawSettings {
            reauth_window: bad.into(),
            ..RawSettings::default()
        };
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains("reauth_window"), "{err}");
    }
    for good in ["10s", "30m", "24h"] {
        let raw = RawSettings {
            reauth_window: good.into(),
            ..RawSettings::default()
        };
        assert!(Settings::from_raw(raw).is_ok(), "{good}");
    }
}

#[test]
fn same_site_none_without_secure_names_both_settings() {
    let raw = RawSettings {
        cookie_same_site: "none".into(),
        cookie_secure: false,
        ..RawSettings::default()
    };
    let err = Settings::from_raw(raw).unwrap_err().to_string();
    assert!(
        err.contains("cookie_same_site") && err.contains("cookie_secure"),
        "{err}"
    );
}

#[test]
fn the_device_cookie_follows_the_other_cookies_and_lives_ninety_days() {
    let s = Settings::from_raw(RawSettings::default()).unwrap();
    assert_eq!(s.cookies.device_name, "__Host-latchkey_device");
    assert_eq!(s.known_device_ttl, Duration::from_secs(90 * 24 * 3600));
    let plain = Settings::for_tests("sqlite::memory:");
    assert_eq!(plain.cookies.device_name, "latchkey_device");
}

#[test]
fn unusable_device_settings_name_themselves() {
    let cases = [
        (
            RawSettings {
                known_device_ttl: "12h".into(),
                ..RawSettings::default()
            },
            "known_device_ttl",
        ),
        (
            RawSettings {
                known_device_ttl: "401d".into(),
                ..RawSettings::default()
            },
            "known_device_ttl",
        ),
        (
            RawSettings {
                cookie_device_name: "bad name".into(),
                ..RawSettings::default()
            },
            "cookie_device_name",
        ),
        (
            RawSettings {
                cookie_device_name: "latchkey_refresh".into(),
                ..RawSettings::default()
            },
            "cookie_device_name",
        ),
    ];
    for (raw, key) in cases {
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
    }
}

#[test]
fn throttling_defaults_match_the_contract() {
    let s = Settings::from_raw(RawSettings::default()).unwrap();
    assert_eq!(s.login_free_failures, 5);
    assert_eq!(s.login_lock_max, Duration::from_secs(15 * 60));
    assert_eq!(s.ip_failures_per_minute, 30);
}

#[test]
fn unusable_throttling_settings_name_themselves() {
    let cases = [
        RawSettings {
            login_free_failures: 0,
            ..RawSettings::default()
        },
        RawSettings {
            login_lock_max: "500ms".into(),
            ..RawSettings::default()
        },
        RawSettings {
            login_lock_max: "2d".into(),
            ..RawSettings::default()
        },
        RawSettings {
            ip_failures_per_minute: 0,
            ..RawSettings::default()
        },
    ];
    let keys = [
        "login_free_failures",
        "login_lock_max",
        "login_lock_max",
        "ip_failures_per_minute",
    ];
    for (raw, key) in cases.into_iter().zip(keys) {
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
fn a_malformed_duration_names_its_setting() {
    let raw = RawSettings {
        session_ttl: "forever".into(),
        ..RawSettings::default()
    };
    let err = Settings::from_raw(raw).unwrap_err().to_string();
    assert!(err.contains("session_ttl"), "{err}");
}

#[test]
fn cors_origins_are_split_on_commas_and_api_keys_can_be_required() {
    let raw = RawSettings {
        cors_origins: " HTTPS://A.example.com:443 ,, http://localhost:3000/ ".into(),
        api_keys_required: true,
        ..RawSettings::default()
    };
    let s = Settings::from_raw(raw).unwrap();
    assert_eq!(
        s.cors_origins,
        ["HTTPS://A.example.com:443", "http://localhost:3000/"]
    );
    assert!(s.api_keys_required);
}

#[test]
fn the_default_hashing_costs_are_owasps() {
    let s = Settings::from_raw(RawSettings::default()).unwrap();
    let h = s.hashing;
    assert_eq!((h.memory_kib, h.iterations, h.parallelism), (19456, 2, 1));
    assert!(h.concurrency >= 1);
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "latchkey.toml",
            "access_token_ttl = \"5m\"\nsignup = false\n",
        )?;
        jail.set_env("LATCHKEY_SIGNUP", "true");
        jail.set_env("DATABASE_URL", "postgres://db/latchkey");
        let s = Settings::load(None).map_err(|e| e.to_string())?;
        assert_eq!(s.access_token_ttl, Duration::from_secs(300));
        assert!(s.signup);
        assert_eq!(s.database_url.expose_secret(), "postgres://db/latchkey");
        Ok(())
    });
}

#[test]
fn an_unknown_key_in_the_file_is_refused() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("latchkey.toml", "acess_token_ttl = \"5m\"\n")?;
        let err = Settings::load(None).unwrap_err().to_string();
        assert!(err.contains("acess_token_ttl"), "{err}");
        Ok(())
    });
}

#[test]
fn cluster_settings_default_to_a_thirty_second_grace_a_short_acquire_and_no_name() {
    let s = Settings::from_raw(RawSettings::default()).unwrap();
    assert_eq!(s.shutdown_grace, Duration::from_secs(30));
    assert_eq!(s.database_acquire_timeout, Duration::from_secs(3));
    assert_eq!(s.instance_name, None);
}

#[test]
fn unusable_cluster_settings_name_themselves() {
    let cases = [
        RawSettings {
            shutdown_grace: "11m".into(),
            ..RawSettings::default()
        },
        RawSettings {
            database_acquire_timeout: "10ms".into(),
            ..RawSettings::default()
        },
        RawSettings {
            database_acquire_timeout: "2m".into(),
            ..RawSettings::default()
        },
        RawSettings {
            instance_name: Some("a b".into()),
            ..RawSettings::default()
        },
        RawSettings {
            instance_name: Some("x\r\nSet-Cookie: y".into()),
            ..RawSettings::default()
        },
        RawSettings {
            instance_name: Some("n".repeat(65)),
            ..RawSettings::default()
        },
    ];
    let keys = [
        "shutdown_grace",
        "database_acquire_timeout",
        "database_acquire_timeout",
        "instance_name",
        "instance_name",
        "instance_name",
    ];
    for (raw, key) in cases.into_iter().zip(keys) {
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains(key), "{key}: {err}");
    }
    let named = Settings::from_raw(RawSettings {
        instance_name: Some(" node-1.eu_west ".into()),
        ..RawSettings::default()
    })
    .unwrap();
    assert_eq!(named.instance_name.as_deref(), Some("node-1.eu_west"));
}

#[test]
fn the_session_cache_defaults_to_a_second_and_ten_thousand_entries_and_a_long_ttl_is_refused() {
    let s = Settings::from_raw(RawSettings::default()).unwrap();
    assert_eq!(s.session_cache_ttl, Duration::from_secs(1));
    assert_eq!(s.session_cache_size, 10_000);
    let off = Settings::from_raw(RawSettings {
        session_cache_ttl: "0s".into(),
        session_cache_size: 0,
        ..RawSettings::default()
    })
    .unwrap();
    assert_eq!(off.session_cache_size, 0);
    let err = Settings::from_raw(RawSettings {
        session_cache_ttl: "2m".into(),
        ..RawSettings::default()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("session_cache_ttl"), "{err}");
}

//! argon2id hashes in PHC string form, computed in memory the caller keeps.
//!
//! The `argon2` crate's `PasswordHasher`/`PasswordVerifier` allocate the whole cost
//! (19 MiB by default) for every hash and free it after. Under a login flood that is an
//! `mmap`, thousands of page faults with the kernel zeroing each page, and an `munmap`
//! that interrupts the other cores to flush their TLBs, per hash, all of it on the cores
//! that should be hashing. Here each hashing thread keeps one [`HashMemory`] for its
//! life and every hash writes over it. The PHC strings are the crate's own format, so
//! hashes from either path verify with the other (tested below).

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// argon2's working memory, reused from one hash to the next.
///
/// argon2 writes every block before it reads it, so what a previous hash left behind
/// never enters the next result.
pub struct HashMemory {
    blocks: Vec<Block>,
    /// Blocks kept between hashes: the configured cost. A stored hash with a larger
    /// cost (made before the cost was lowered) gets memory of its own, freed after.
    keep: usize,
}

impl HashMemory {
    /// Memory for hashes with `params`, allocated by the first hash that needs it.
    pub fn for_params(params: &Params) -> HashMemory {
        HashMemory {
            blocks: Vec::new(),
            keep: params.block_count(),
        }
    }

    fn hash_into(
        &mut self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        let needed = argon2.params().block_count();
        if needed > self.keep {
            return argon2.hash_password_into(password, salt, out);
        }
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        let blocks = self
            .blocks
            .get_mut(..needed)
            .ok_or(argon2::Error::MemoryTooLittle)?;
        argon2.hash_password_into_with_memory(password, salt, out, blocks)
    }
}

/// A PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`) for `password` with a
/// fresh random salt.
pub fn hash(
    argon2: &Argon2<'static>,
    memory: &mut HashMemory,
    password: &[u8],
) -> anyhow::Result<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let params = argon2.params();
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    memory
        .hash_into(argon2, password, &salt_bytes, &mut out)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` produces the hash in `stored`, computed with the algorithm,
/// version and costs recorded there. The outputs are compared in constant time.
pub fn verify(
    memory: &mut HashMemory,
    password: &[u8],
    stored: &PasswordHash<'_>,
) -> anyhow::Result<bool> {
    let malformed = |what: &str| anyhow::anyhow!("stored hash: {what}");
    let algorithm =
        Algorithm::try_from(stored.algorithm).map_err(|_| malformed("not an argon2 hash"))?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|_| malformed("unknown argon2 version"))?
        .unwrap_or_default();
    let params = Params::try_from(stored).map_err(|e| malformed(&e.to_string()))?;
    let expected = stored.hash.ok_or_else(|| malformed("no hash"))?;
    let salt = stored.salt.ok_or_else(|| malformed("no salt"))?;
    let mut salt_buf = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| malformed(&e.to_string()))?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    memory
        .hash_into(&argon2, password, salt_bytes, &mut out)
        .map_err(|e| anyhow::anyhow!("argon2 verify: {e}"))?;
    let computed = Output::new(&out).map_err(|e| malformed(&e.to_string()))?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn argon2(m: u32, t: u32) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(m, t, 1, None).unwrap(),
        )
    }

    fn parse(phc: &str) -> PasswordHash<'_> {
        PasswordHash::new(phc).unwrap()
    }

    #[test]
    fn our_hashes_verify_with_the_crate_and_the_crates_with_ours() {
        let argon2 = argon2(256, 2);
        let mut memory = HashMemory::for_params(argon2.params());
        let ours = hash(&argon2, &mut memory, b"correct horse").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{ours}");
        assert!(
            argon2
                .verify_password(b"correct horse", &parse(&ours))
                .is_ok()
        );

        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let theirs = argon2
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify(&mut memory, b"correct horse", &parse(&theirs)).unwrap());
        assert!(!verify(&mut memory, b"correct horsf", &parse(&theirs)).unwrap());
    }

    #[test]
    fn reused_memory_gives_the_same_answers_as_fresh_memory() {
        let argon2 = argon2(64, 1);
        let mut reused = HashMemory::for_params(argon2.params());
        let first = hash(&argon2, &mut reused, b"first password").unwrap();
        let second = hash(&argon2, &mut reused, b"second password").unwrap();
        for _ in 0..2 {
            assert!(verify(&mut reused, b"first password", &parse(&first)).unwrap());
            assert!(!verify(&mut reused, b"second password", &parse(&first)).unwrap());
            assert!(verify(&mut reused, b"second password", &parse(&second)).unwrap());
        }
        let mut fresh = HashMemory::for_params(argon2.params());
        assert!(verify(&mut fresh, b"second password", &parse(&second)).unwrap());
    }

    #[test]
    fn hashes_with_other_costs_verify_and_leave_the_kept_memory_alone() {
        let configured = argon2(64, 1);
        let mut memory = HashMemory::for_params(configured.params());
        let bigger = argon2(256, 1)
            .hash_password(b"pw", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
            .unwrap()
            .to_string();
        assert!(verify(&mut memory, b"pw", &parse(&bigger)).unwrap());
        assert!(memory.blocks.len() <= 64, "a larger cost must not be kept");
        let smaller = argon2(32, 3)
            .hash_password(b"pw", &SaltString::encode_b64(b"fedcba9876543210").unwrap())
            .unwrap()
            .to_string();
        assert!(verify(&mut memory, b"pw", &parse(&smaller)).unwrap());
        assert!(!verify(&mut memory, b"pW", &parse(&smaller)).unwrap());
    }

    #[test]
    fn argon2i_and_argon2d_hashes_are_verified_with_their_own_algorithm() {
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2d] {
            let other = Argon2::new(
                algorithm,
                Version::V0x13,
                Params::new(64, 1, 1, None).unwrap(),
            );
            let phc = other
                .hash_password(b"pw", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
                .unwrap()
                .to_string();
            let mut memory = HashMemory::for_params(other.params());
            assert!(verify(&mut memory, b"pw", &parse(&phc)).unwrap(), "{phc}");
        }
    }
}

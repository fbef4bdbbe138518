//! HS256 JWT access tokens (`sub`, `iat`, `exp`, `jti`) and opaque 256-bit refresh tokens.
//! Only HS256 is accepted: `alg: none`, other HMAC sizes and asymmetric algorithms are refused.

use application::ports::{AccessToken, NewRefreshToken, TokenIssuer};
use application::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::auth::TokenHash;
use domain::users::UserId;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::keys::ServerKey;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    jti: String,
}

pub struct JwtTokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl JwtTokenIssuer {
    pub fn new(key: &ServerKey, access_ttl: Duration) -> Self {
        let secret = key.derive("tessera/jwt-hs256");
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the service's clock below, not the library's.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            access_ttl,
        }
    }
}

impl TokenIssuer for JwtTokenIssuer {
    fn issue_access(&self, user: UserId, now: OffsetDateTime) -> Result<AccessToken, AppError> {
        let claims = Claims {
            sub: user.to_string(),
            iat: now.unix_timestamp(),
            exp: (now + self.access_ttl).unix_timestamp(),
            jti: URL_SAFE_NO_PAD.encode(random_bytes::<16>()),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(format!("jwt encode: {e}")))?;
        Ok(AccessToken { token, expires_in: self.access_ttl.whole_seconds() })
    }

    fn verify_access(&self, token: &str, now: OffsetDateTime) -> Result<UserId, AppError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| AppError::Unauthenticated)?;
        if data.claims.exp <= now.unix_timestamp() {
            return Err(AppError::Unauthenticated);
        }
        let id = Uuid::parse_str(&data.claims.sub).map_err(|_| AppError::Unauthenticated)?;
        Ok(UserId(id))
    }

    fn new_refresh_token(&self) -> NewRefreshToken {
        let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let hash = self.hash_refresh_token(&secret);
        NewRefreshToken { secret, hash }
    }

    fn hash_refresh_token(&self, secret: &str) -> TokenHash {
        // 256 random bits need no salt or slow hash: SHA-256 is enough to make a leaked table useless.
        TokenHash(Sha256::digest(secret.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn issuer() -> JwtTokenIssuer {
        JwtTokenIssuer::new(&ServerKey::new(&[7u8; 32]).unwrap(), Duration::minutes(15))
    }

    fn user() -> UserId {
        UserId(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001))
    }

    fn forge(header: &str, claims: &serde_json::Value, signature: &str) -> String {
        format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()), signature)
    }

    #[test]
    fn an_issued_token_verifies_until_it_expires() {
        let issuer = issuer();
        let access = issuer.issue_access(user(), NOW).unwrap();
        assert_eq!(access.expires_in, 900);
        assert_eq!(issuer.verify_access(&access.token, NOW), Ok(user()));
        assert_eq!(issuer.verify_access(&access.token, NOW + Duration::seconds(899)), Ok(user()));
        assert_eq!(issuer.verify_access(&access.token, NOW + Duration::seconds(900)), Err(AppError::Unauthenticated));
    }

    #[test]
    fn claims_carry_sub_iat_exp_and_a_unique_jti() {
        let issuer = issuer();
        let a = issuer.issue_access(user(), NOW).unwrap().token;
        let b = issuer.issue_access(user(), NOW).unwrap().token;
        assert_ne!(a, b, "jti makes every token unique");
        let payload = a.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["sub"], user().to_string());
        assert_eq!(claims["iat"], NOW.unix_timestamp());
        assert_eq!(claims["exp"], NOW.unix_timestamp() + 900);
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 20));
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let issuer = issuer();
        let token = issuer.issue_access(user(), NOW).unwrap().token;
        let claims = serde_json::json!({"sub": user().to_string(), "iat": NOW.unix_timestamp(), "exp": NOW.unix_timestamp() + 900});
        let mut parts: Vec<&str> = token.split('.').collect();
        let other_payload = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": Uuid::nil().to_string(), "iat": 1, "exp": NOW.unix_timestamp() + 900})
                .to_string(),
        );
        parts[1] = &other_payload;
        let tampered = parts.join(".");
        let unsigned = forge(r#"{"alg":"none","typ":"JWT"}"#, &claims, "");
        let other_key = JwtTokenIssuer::new(&ServerKey::new(&[8u8; 32]).unwrap(), Duration::minutes(15))
            .issue_access(user(), NOW)
            .unwrap()
            .token;
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&ServerKey::new(&[7u8; 32]).unwrap().derive("tessera/jwt-hs256")),
        )
        .unwrap();

        for bad in [tampered.as_str(), &unsigned, &other_key, &hs512, "", "a.b.c", "not a token"] {
            assert_eq!(issuer.verify_access(bad, NOW), Err(AppError::Unauthenticated), "{bad:?}");
        }
    }

    #[test]
    fn refresh_tokens_are_256_random_bits_stored_as_their_sha256() {
        let issuer = issuer();
        let a = issuer.new_refresh_token();
        let b = issuer.new_refresh_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a.secret).unwrap().len(), 32);
        assert_ne!(a.secret, b.secret);
        assert_eq!(issuer.hash_refresh_token(&a.secret), a.hash);
        assert_eq!(a.hash.0, <[u8; 32]>::from(Sha256::digest(a.secret.as_bytes())));
    }
}

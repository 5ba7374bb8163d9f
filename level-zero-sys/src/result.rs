//! `ze_result_t` as a Rust result.

use crate::ze_result_t;

impl ze_result_t {
    /// `Ok(())` for `ZE_RESULT_SUCCESS`, else `Err(self)`.
    #[inline]
    pub fn ok(self) -> Result<(), ze_result_t> {
        if self == ze_result_t::ZE_RESULT_SUCCESS {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Whether this is `ZE_RESULT_SUCCESS`.
    #[inline]
    pub fn is_success(self) -> bool {
        self == ze_result_t::ZE_RESULT_SUCCESS
    }
}

impl std::fmt::Display for ze_result_t {
    /// The constant's name, or the raw value in hexadecimal for a value the headers do not
    /// define (a driver may return one).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "unknown ze_result_t {:#x}", self.0),
        }
    }
}

impl std::error::Error for ze_result_t {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_ok_and_errors_keep_their_code() {
        assert_eq!(ze_result_t::ZE_RESULT_SUCCESS.ok(), Ok(()));
        let e = ze_result_t::ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY;
        assert_eq!(e.ok(), Err(e));
        assert!(!e.is_success());
        assert_eq!(e.to_string(), "ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY");
        assert_eq!(
            ze_result_t(0x1234_5678).to_string(),
            "unknown ze_result_t 0x12345678"
        );
    }
}

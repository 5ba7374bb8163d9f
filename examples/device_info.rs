//! Lists what the system's Level Zero loader provides.
//!
//! (Grows into a full `clinfo` for Level Zero once the safe layer lands.)

use level_zero_sys::{Api, FUNCTIONS, ze_init_flags_t};

fn main() {
    // SAFETY: loading the system's Level Zero loader is this example's purpose.
    let api = match unsafe { Api::load() } {
        Ok(api) => api,
        Err(e) => {
            println!("no Level Zero loader: {e}");
            println!("(Debian/Ubuntu: apt-get install libze1)");
            return;
        }
    };
    println!(
        "loader: {} of {} functions present",
        api.present_count(),
        FUNCTIONS.len()
    );
    // SAFETY: zeInit takes flags only.
    match unsafe { api.zeInit(ze_init_flags_t::default()) } {
        Ok(r) if r.is_success() => println!("zeInit: success"),
        Ok(r) => println!("zeInit: {r} (no Level Zero driver installed?)"),
        Err(e) => println!("{e}"),
    }
}

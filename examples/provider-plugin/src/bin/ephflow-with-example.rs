//! `ephflow-with-example`: the `ephflow` command with the `Example` provider linked besides
//! the shipped plugins. This is all a binary of one's own needs: name the extra plugin crates
//! (so their `inventory` registrations are linked), then run the facade's command line.
//!
//! ```sh
//! cargo run -p ephflow-example-provider -- schema | grep -A3 '"BootDescribes"'
//! cargo run -p ephflow-example-provider -- validate examples/provider-plugin/workflow.json
//! ```

fn main() -> std::process::ExitCode {
    ephflow_example_provider::register();
    ephflow::cli_main()
}

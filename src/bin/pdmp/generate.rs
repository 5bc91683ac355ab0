//! `pdmp generate`: writes the shell completions and man pages that are
//! checked in under completions/ and man/, from the clap definition itself.

use crate::output::Failure;
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory that receives completions/ and man/.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut command = crate::Cli::command();
    command.build();
    let completions = args.out_dir.join("completions");
    let man = args.out_dir.join("man");
    for dir in [&completions, &man] {
        std::fs::create_dir_all(dir).map_err(|e| Failure::in_file(dir, e))?;
    }
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        clap_complete::generate_to(shell, &mut command, "pdmp", &completions)
            .map_err(|e| Failure::in_file(&completions, e))?;
    }
    write_man_page(&command, "pdmp", &man)?;
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("pdmp-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        write_man_page(&sub, &name, &man)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_man_page(command: &clap::Command, name: &str, dir: &Path) -> Result<(), Failure> {
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .map_err(|e| Failure::in_file(&path, e))?;
    std::fs::write(&path, page).map_err(|e| Failure::in_file(&path, e))
}

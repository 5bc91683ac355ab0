# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pdmp_global_optspecs
    string join \n color= q/quiet h/help V/version
end

function __fish_pdmp_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pdmp_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pdmp_using_subcommand
    set -l cmd (__fish_pdmp_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pdmp -n "__fish_pdmp_needs_command" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_needs_command" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_needs_command" -s V -l version -d 'Print version'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "info" -d 'Show the header, regions, tables and object counts of a dump'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "diff" -d 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "verify" -d 'Check that a dump is sound and, optionally, that it pairs with an executable'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "stats" -d 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "relocate" -d 'Apply a dump\'s relocations for given addresses, as Emacs does when it loads it'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "embed" -d 'Embed a dump in a copy of its executable, or check an executable'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "extract" -d 'Write the dump an executable carries (section or appended) to a file, bit-exact'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "compress" -d 'Compress a dump into a .pdmpz container (relocation-aware, then zstd)'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "decompress" -d 'Decompress a .pdmpz container back into the exact original dump'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "dump" -d 'Write a dump (reference layout) of the heap that Emacs Lisp sources build'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "generate" -d 'Write shell completions and man pages (for packagers; hidden from --help)'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdmp -n "__fish_pdmp_using_subcommand info" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand info" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand info" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l fail-on-growth -d 'Exit 1 only if the file grew by more than this many percent' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l max-growth -d 'Exit 1 only if the file grew by more than this many bytes' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l top -d 'Entries in the retained-size ranking and in the symbol lists shown' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l strings -d 'Most string text diffs to show' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l emacs -d 'An Emacs executable that wrote one of the dumps (for built-in symbol names); give it twice for two executables' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l all -d 'Show unchanged figures and every added, removed and changed symbol'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand verify" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand verify" -l exe -d 'Check that the dump\'s fingerprint occurs in this executable, and look for the native-comp files next to it' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand verify" -l emacs -d 'Verify the dump this Emacs would load (default: `emacs` on PATH) against its executable' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand verify" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand verify" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l top -d 'Entries in each ranking (largest objects, top retainers)' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l symbol -d 'Show what the symbol NAME retains, by type' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l emacs -d 'The Emacs executable that wrote the dump (for built-in symbol names)' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l csv -d 'Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained)'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l dump-base -d 'Address the dump is mapped at (its byte 0)' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l emacs-basis -d 'Run-time address of the executable\'s `Vpurify_flag` (emacs_basis)' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l exe -d 'Recover emacs_basis and lispsym from this executable (the one the dump was made with)' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l load-bias -d 'Where the executable is loaded, added to its link-time addresses (PIE). Default 0' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l lispsym -d 'Run-time address of `lispsym`. Default: emacs_basis plus the offset the dump implies' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l preferred-base -d 'Write a dump pre-relocated for this dump base (recorded in a trailer) instead of an image' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -s o -l output -d 'Where to write the image (or the pre-relocated dump); replaced atomically' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l dry-run -d 'Relocate in memory and report, but write nothing'
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand relocate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -l exe -d 'The executable to copy (never modified)' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -s o -l output -d 'Where to write the executable carrying the dump' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -l check -d 'Report whether BIN carries a dump, in which mode, and whether it pairs' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -l append -d 'Append the dump and a trailer instead of adding an ELF section'
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -l force -d 'Embed even when the dump\'s fingerprint does not occur in BIN'
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -l json -d 'Print one JSON document instead of a table'
complete -c pdmp -n "__fish_pdmp_using_subcommand embed" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand extract" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand extract" -s o -l output -d 'The dump file to write' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand extract" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand extract" -l json -d 'Print one JSON document instead of a table'
complete -c pdmp -n "__fish_pdmp_using_subcommand extract" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -s o -l output -d 'Output file. Default: DUMP.pdmpz' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -l fast -d 'Low zstd level: much faster to write, a little larger'
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -s f -l force -d 'Replace OUT if it exists'
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -l json -d 'Print one JSON document instead of a table'
complete -c pdmp -n "__fish_pdmp_using_subcommand compress" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand decompress" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand decompress" -s o -l output -d 'Output file. Default: IN without its .pdmpz extension' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand decompress" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand decompress" -s f -l force -d 'Replace OUT if it exists'
complete -c pdmp -n "__fish_pdmp_using_subcommand decompress" -l json -d 'Print one JSON document instead of a table'
complete -c pdmp -n "__fish_pdmp_using_subcommand decompress" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -s o -l output -d 'The dump to write (written to a temporary file, then renamed)' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -l layout -d 'Header layout and pvec numbering of this Emacs version' -r -f -a "emacs-27\t''
emacs-28\t''
emacs-29\t''
emacs-30\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -l preferred-base -d 'Pre-relocate for this address (hex with 0x, 64 KiB aligned); loading there then needs no relocation' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -l json -d 'Print one JSON document instead of a table'
complete -c pdmp -n "__fish_pdmp_using_subcommand dump" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand generate" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Color when stdout is a terminal and NO_COLOR is not set'
always\t''
never\t''"
complete -c pdmp -n "__fish_pdmp_using_subcommand generate" -l out-dir -d 'Directory that receives completions/ and man/' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand generate" -s q -l quiet -d 'Print no notes on stderr (errors are still printed)'
complete -c pdmp -n "__fish_pdmp_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "info" -d 'Show the header, regions, tables and object counts of a dump'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "diff" -d 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "verify" -d 'Check that a dump is sound and, optionally, that it pairs with an executable'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "stats" -d 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "relocate" -d 'Apply a dump\'s relocations for given addresses, as Emacs does when it loads it'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "embed" -d 'Embed a dump in a copy of its executable, or check an executable'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "extract" -d 'Write the dump an executable carries (section or appended) to a file, bit-exact'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "compress" -d 'Compress a dump into a .pdmpz container (relocation-aware, then zstd)'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "decompress" -d 'Decompress a .pdmpz container back into the exact original dump'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "dump" -d 'Write a dump (reference layout) of the heap that Emacs Lisp sources build'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "generate" -d 'Write shell completions and man pages (for packagers; hidden from --help)'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff verify stats relocate embed extract compress decompress dump generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

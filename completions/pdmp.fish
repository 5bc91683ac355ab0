# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pdmp_global_optspecs
    string join \n h/help V/version
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

complete -c pdmp -n "__fish_pdmp_needs_command" -s h -l help -d 'Print help'
complete -c pdmp -n "__fish_pdmp_needs_command" -s V -l version -d 'Print version'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "info" -d 'Show the header, regions, tables and object counts of a dump'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "diff" -d 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "stats" -d 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "generate" -d 'Write shell completions and man pages (for packagers; hidden from --help)'
complete -c pdmp -n "__fish_pdmp_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdmp -n "__fish_pdmp_using_subcommand info" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand info" -s h -l help -d 'Print help'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l fail-on-growth -d 'Exit 1 only if the file grew by more than this many percent' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l max-growth -d 'Exit 1 only if the file grew by more than this many bytes' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l top -d 'Entries in the retained-size ranking and in the symbol lists shown' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l strings -d 'Most string text diffs to show' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l emacs -d 'An Emacs executable that wrote one of the dumps (for built-in symbol names); give it twice for two executables' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -l all -d 'Show unchanged figures and every added, removed and changed symbol'
complete -c pdmp -n "__fish_pdmp_using_subcommand diff" -s h -l help -d 'Print help'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l top -d 'Entries in each ranking (largest objects, top retainers)' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l symbol -d 'Show what the symbol NAME retains, by type' -r
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l emacs -d 'The Emacs executable that wrote the dump (for built-in symbol names)' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l json -d 'Print one JSON document instead of tables'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -l csv -d 'Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained)'
complete -c pdmp -n "__fish_pdmp_using_subcommand stats" -s h -l help -d 'Print help'
complete -c pdmp -n "__fish_pdmp_using_subcommand generate" -l out-dir -d 'Directory that receives completions/ and man/' -r -F
complete -c pdmp -n "__fish_pdmp_using_subcommand generate" -s h -l help -d 'Print help'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff stats generate help" -f -a "info" -d 'Show the header, regions, tables and object counts of a dump'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff stats generate help" -f -a "diff" -d 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff stats generate help" -f -a "stats" -d 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff stats generate help" -f -a "generate" -d 'Write shell completions and man pages (for packagers; hidden from --help)'
complete -c pdmp -n "__fish_pdmp_using_subcommand help; and not __fish_seen_subcommand_from info diff stats generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

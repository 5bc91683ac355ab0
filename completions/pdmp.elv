
use builtin;
use str;

set edit:completion:arg-completer[pdmp] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'pdmp'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'pdmp'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand info 'Show the header, regions, tables and object counts of a dump'
            cand diff 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
            cand stats 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
            cand generate 'Write shell completions and man pages (for packagers; hidden from --help)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pdmp;info'= {
            cand --json 'Print one JSON document instead of tables'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'pdmp;diff'= {
            cand --fail-on-growth 'Exit 1 only if the file grew by more than this many percent'
            cand --max-growth 'Exit 1 only if the file grew by more than this many bytes'
            cand --top 'Entries in the retained-size ranking and in the symbol lists shown'
            cand --strings 'Most string text diffs to show'
            cand --emacs 'An Emacs executable that wrote one of the dumps (for built-in symbol names); give it twice for two executables'
            cand --json 'Print one JSON document instead of tables'
            cand --all 'Show unchanged figures and every added, removed and changed symbol'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'pdmp;stats'= {
            cand --top 'Entries in each ranking (largest objects, top retainers)'
            cand --symbol 'Show what the symbol NAME retains, by type'
            cand --emacs 'The Emacs executable that wrote the dump (for built-in symbol names)'
            cand --json 'Print one JSON document instead of tables'
            cand --csv 'Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'pdmp;generate'= {
            cand --out-dir 'Directory that receives completions/ and man/'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'pdmp;help'= {
            cand info 'Show the header, regions, tables and object counts of a dump'
            cand diff 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
            cand stats 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
            cand generate 'Write shell completions and man pages (for packagers; hidden from --help)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pdmp;help;info'= {
        }
        &'pdmp;help;diff'= {
        }
        &'pdmp;help;stats'= {
        }
        &'pdmp;help;generate'= {
        }
        &'pdmp;help;help'= {
        }
    ]
    $completions[$command]
}


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
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand info 'Show the header, regions, tables and object counts of a dump'
            cand diff 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
            cand verify 'Check that a dump is sound and, optionally, that it pairs with an executable'
            cand stats 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
            cand relocate 'Apply a dump''s relocations for given addresses, as Emacs does when it loads it'
            cand embed 'Embed a dump in a copy of its executable, or check an executable'
            cand extract 'Write the dump an executable carries (section or appended) to a file, bit-exact'
            cand compress 'Compress a dump into a .pdmpz container (relocation-aware, then zstd)'
            cand decompress 'Decompress a .pdmpz container back into the exact original dump'
            cand dump 'Write a dump (reference layout) of the heap that Emacs Lisp sources build'
            cand generate 'Write shell completions and man pages (for packagers; hidden from --help)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pdmp;info'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --json 'Print one JSON document instead of tables'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;diff'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --fail-on-growth 'Exit 1 only if the file grew by more than this many percent'
            cand --max-growth 'Exit 1 only if the file grew by more than this many bytes'
            cand --top 'Entries in the retained-size ranking and in the symbol lists shown'
            cand --strings 'Most string text diffs to show'
            cand --emacs 'An Emacs executable that wrote one of the dumps (for built-in symbol names); give it twice for two executables'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --json 'Print one JSON document instead of tables'
            cand --all 'Show unchanged figures and every added, removed and changed symbol'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;verify'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --exe 'Check that the dump''s fingerprint occurs in this executable, and look for the native-comp files next to it'
            cand --emacs 'Verify the dump this Emacs would load (default: `emacs` on PATH) against its executable'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --json 'Print one JSON document instead of tables'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;stats'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --top 'Entries in each ranking (largest objects, top retainers)'
            cand --symbol 'Show what the symbol NAME retains, by type'
            cand --emacs 'The Emacs executable that wrote the dump (for built-in symbol names)'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --json 'Print one JSON document instead of tables'
            cand --csv 'Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;relocate'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --dump-base 'Address the dump is mapped at (its byte 0)'
            cand --emacs-basis 'Run-time address of the executable''s `Vpurify_flag` (emacs_basis)'
            cand --exe 'Recover emacs_basis and lispsym from this executable (the one the dump was made with)'
            cand --load-bias 'Where the executable is loaded, added to its link-time addresses (PIE). Default 0'
            cand --lispsym 'Run-time address of `lispsym`. Default: emacs_basis plus the offset the dump implies'
            cand --preferred-base 'Write a dump pre-relocated for this dump base (recorded in a trailer) instead of an image'
            cand -o 'Where to write the image (or the pre-relocated dump); replaced atomically'
            cand --output 'Where to write the image (or the pre-relocated dump); replaced atomically'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --dry-run 'Relocate in memory and report, but write nothing'
            cand --json 'Print one JSON document instead of tables'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;embed'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --exe 'The executable to copy (never modified)'
            cand -o 'Where to write the executable carrying the dump'
            cand --output 'Where to write the executable carrying the dump'
            cand --check 'Report whether BIN carries a dump, in which mode, and whether it pairs'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --append 'Append the dump and a trailer instead of adding an ELF section'
            cand --force 'Embed even when the dump''s fingerprint does not occur in BIN'
            cand --json 'Print one JSON document instead of a table'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;extract'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -o 'The dump file to write'
            cand --output 'The dump file to write'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --json 'Print one JSON document instead of a table'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;compress'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -o 'Output file. Default: DUMP.pdmpz'
            cand --output 'Output file. Default: DUMP.pdmpz'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --fast 'Low zstd level: much faster to write, a little larger'
            cand -f 'Replace OUT if it exists'
            cand --force 'Replace OUT if it exists'
            cand --json 'Print one JSON document instead of a table'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;decompress'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -o 'Output file. Default: IN without its .pdmpz extension'
            cand --output 'Output file. Default: IN without its .pdmpz extension'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand -f 'Replace OUT if it exists'
            cand --force 'Replace OUT if it exists'
            cand --json 'Print one JSON document instead of a table'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;dump'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -o 'The dump to write (written to a temporary file, then renamed)'
            cand --output 'The dump to write (written to a temporary file, then renamed)'
            cand --layout 'Header layout and pvec numbering of this Emacs version'
            cand --preferred-base 'Pre-relocate for this address (hex with 0x, 64 KiB aligned); loading there then needs no relocation'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand --json 'Print one JSON document instead of a table'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;generate'= {
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --out-dir 'Directory that receives completions/ and man/'
            cand -q 'Print no notes on stderr (errors are still printed)'
            cand --quiet 'Print no notes on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'pdmp;help'= {
            cand info 'Show the header, regions, tables and object counts of a dump'
            cand diff 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset'
            cand verify 'Check that a dump is sound and, optionally, that it pairs with an executable'
            cand stats 'Count and bytes per type and region, page relocation density, and what each object and symbol retains'
            cand relocate 'Apply a dump''s relocations for given addresses, as Emacs does when it loads it'
            cand embed 'Embed a dump in a copy of its executable, or check an executable'
            cand extract 'Write the dump an executable carries (section or appended) to a file, bit-exact'
            cand compress 'Compress a dump into a .pdmpz container (relocation-aware, then zstd)'
            cand decompress 'Decompress a .pdmpz container back into the exact original dump'
            cand dump 'Write a dump (reference layout) of the heap that Emacs Lisp sources build'
            cand generate 'Write shell completions and man pages (for packagers; hidden from --help)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pdmp;help;info'= {
        }
        &'pdmp;help;diff'= {
        }
        &'pdmp;help;verify'= {
        }
        &'pdmp;help;stats'= {
        }
        &'pdmp;help;relocate'= {
        }
        &'pdmp;help;embed'= {
        }
        &'pdmp;help;extract'= {
        }
        &'pdmp;help;compress'= {
        }
        &'pdmp;help;decompress'= {
        }
        &'pdmp;help;dump'= {
        }
        &'pdmp;help;generate'= {
        }
        &'pdmp;help;help'= {
        }
    ]
    $completions[$command]
}

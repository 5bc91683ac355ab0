
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'pdmp' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'pdmp'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'pdmp' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the header, regions, tables and object counts of a dump')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that a dump is sound and, optionally, that it pairs with an executable')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Count and bytes per type and region, page relocation density, and what each object and symbol retains')
            [CompletionResult]::new('relocate', 'relocate', [CompletionResultType]::ParameterValue, 'Apply a dump''s relocations for given addresses, as Emacs does when it loads it')
            [CompletionResult]::new('embed', 'embed', [CompletionResultType]::ParameterValue, 'Embed a dump in a copy of its executable, or check an executable')
            [CompletionResult]::new('extract', 'extract', [CompletionResultType]::ParameterValue, 'Write the dump an executable carries (section or appended) to a file, bit-exact')
            [CompletionResult]::new('compress', 'compress', [CompletionResultType]::ParameterValue, 'Compress a dump into a .pdmpz container (relocation-aware, then zstd)')
            [CompletionResult]::new('decompress', 'decompress', [CompletionResultType]::ParameterValue, 'Decompress a .pdmpz container back into the exact original dump')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Write a dump (reference layout) of the heap that Emacs Lisp sources build')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers; hidden from --help)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pdmp;info' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;diff' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--fail-on-growth', '--fail-on-growth', [CompletionResultType]::ParameterName, 'Exit 1 only if the file grew by more than this many percent')
            [CompletionResult]::new('--max-growth', '--max-growth', [CompletionResultType]::ParameterName, 'Exit 1 only if the file grew by more than this many bytes')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Entries in the retained-size ranking and in the symbol lists shown')
            [CompletionResult]::new('--strings', '--strings', [CompletionResultType]::ParameterName, 'Most string text diffs to show')
            [CompletionResult]::new('--emacs', '--emacs', [CompletionResultType]::ParameterName, 'An Emacs executable that wrote one of the dumps (for built-in symbol names); give it twice for two executables')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Show unchanged figures and every added, removed and changed symbol')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;verify' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--exe', '--exe', [CompletionResultType]::ParameterName, 'Check that the dump''s fingerprint occurs in this executable, and look for the native-comp files next to it')
            [CompletionResult]::new('--emacs', '--emacs', [CompletionResultType]::ParameterName, 'Verify the dump this Emacs would load (default: `emacs` on PATH) against its executable')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;stats' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Entries in each ranking (largest objects, top retainers)')
            [CompletionResult]::new('--symbol', '--symbol', [CompletionResultType]::ParameterName, 'Show what the symbol NAME retains, by type')
            [CompletionResult]::new('--emacs', '--emacs', [CompletionResultType]::ParameterName, 'The Emacs executable that wrote the dump (for built-in symbol names)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;relocate' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--dump-base', '--dump-base', [CompletionResultType]::ParameterName, 'Address the dump is mapped at (its byte 0)')
            [CompletionResult]::new('--emacs-basis', '--emacs-basis', [CompletionResultType]::ParameterName, 'Run-time address of the executable''s `Vpurify_flag` (emacs_basis)')
            [CompletionResult]::new('--exe', '--exe', [CompletionResultType]::ParameterName, 'Recover emacs_basis and lispsym from this executable (the one the dump was made with)')
            [CompletionResult]::new('--load-bias', '--load-bias', [CompletionResultType]::ParameterName, 'Where the executable is loaded, added to its link-time addresses (PIE). Default 0')
            [CompletionResult]::new('--lispsym', '--lispsym', [CompletionResultType]::ParameterName, 'Run-time address of `lispsym`. Default: emacs_basis plus the offset the dump implies')
            [CompletionResult]::new('--preferred-base', '--preferred-base', [CompletionResultType]::ParameterName, 'Write a dump pre-relocated for this dump base (recorded in a trailer) instead of an image')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the image (or the pre-relocated dump); replaced atomically')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the image (or the pre-relocated dump); replaced atomically')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Relocate in memory and report, but write nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;embed' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--exe', '--exe', [CompletionResultType]::ParameterName, 'The executable to copy (never modified)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the executable carrying the dump')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the executable carrying the dump')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Report whether BIN carries a dump, in which mode, and whether it pairs')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Append the dump and a trailer instead of adding an ELF section')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Embed even when the dump''s fingerprint does not occur in BIN')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;extract' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The dump file to write')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The dump file to write')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;compress' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output file. Default: DUMP.pdmpz')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output file. Default: DUMP.pdmpz')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--fast', '--fast', [CompletionResultType]::ParameterName, 'Low zstd level: much faster to write, a little larger')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Replace OUT if it exists')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace OUT if it exists')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;decompress' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output file. Default: IN without its .pdmpz extension')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output file. Default: IN without its .pdmpz extension')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Replace OUT if it exists')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace OUT if it exists')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;dump' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The dump to write (written to a temporary file, then renamed)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The dump to write (written to a temporary file, then renamed)')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'Header layout and pvec numbering of this Emacs version')
            [CompletionResult]::new('--preferred-base', '--preferred-base', [CompletionResultType]::ParameterName, 'Pre-relocate for this address (hex with 0x, 64 KiB aligned); loading there then needs no relocation')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;generate' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory that receives completions/ and man/')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no notes on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'pdmp;help' {
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the header, regions, tables and object counts of a dump')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that a dump is sound and, optionally, that it pairs with an executable')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Count and bytes per type and region, page relocation density, and what each object and symbol retains')
            [CompletionResult]::new('relocate', 'relocate', [CompletionResultType]::ParameterValue, 'Apply a dump''s relocations for given addresses, as Emacs does when it loads it')
            [CompletionResult]::new('embed', 'embed', [CompletionResultType]::ParameterValue, 'Embed a dump in a copy of its executable, or check an executable')
            [CompletionResult]::new('extract', 'extract', [CompletionResultType]::ParameterValue, 'Write the dump an executable carries (section or appended) to a file, bit-exact')
            [CompletionResult]::new('compress', 'compress', [CompletionResultType]::ParameterValue, 'Compress a dump into a .pdmpz container (relocation-aware, then zstd)')
            [CompletionResult]::new('decompress', 'decompress', [CompletionResultType]::ParameterValue, 'Decompress a .pdmpz container back into the exact original dump')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Write a dump (reference layout) of the heap that Emacs Lisp sources build')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers; hidden from --help)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pdmp;help;info' {
            break
        }
        'pdmp;help;diff' {
            break
        }
        'pdmp;help;verify' {
            break
        }
        'pdmp;help;stats' {
            break
        }
        'pdmp;help;relocate' {
            break
        }
        'pdmp;help;embed' {
            break
        }
        'pdmp;help;extract' {
            break
        }
        'pdmp;help;compress' {
            break
        }
        'pdmp;help;decompress' {
            break
        }
        'pdmp;help;dump' {
            break
        }
        'pdmp;help;generate' {
            break
        }
        'pdmp;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}


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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the header, regions, tables and object counts of a dump')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Count and bytes per type and region, page relocation density, and what each object and symbol retains')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers; hidden from --help)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pdmp;info' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'pdmp;diff' {
            [CompletionResult]::new('--fail-on-growth', '--fail-on-growth', [CompletionResultType]::ParameterName, 'Exit 1 only if the file grew by more than this many percent')
            [CompletionResult]::new('--max-growth', '--max-growth', [CompletionResultType]::ParameterName, 'Exit 1 only if the file grew by more than this many bytes')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Entries in the retained-size ranking and in the symbol lists shown')
            [CompletionResult]::new('--strings', '--strings', [CompletionResultType]::ParameterName, 'Most string text diffs to show')
            [CompletionResult]::new('--emacs', '--emacs', [CompletionResultType]::ParameterName, 'An Emacs executable that wrote one of the dumps (for built-in symbol names); give it twice for two executables')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Show unchanged figures and every added, removed and changed symbol')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'pdmp;stats' {
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Entries in each ranking (largest objects, top retainers)')
            [CompletionResult]::new('--symbol', '--symbol', [CompletionResultType]::ParameterName, 'Show what the symbol NAME retains, by type')
            [CompletionResult]::new('--emacs', '--emacs', [CompletionResultType]::ParameterName, 'The Emacs executable that wrote the dump (for built-in symbol names)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of tables')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Print CSV rows (section,region,kind,pvec,name,offset,count,bytes,retained)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'pdmp;generate' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Directory that receives completions/ and man/')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'pdmp;help' {
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the header, regions, tables and object counts of a dump')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two dumps: header, regions, objects and relocations with deltas, then symbols added, removed and changed, by content rather than offset')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Count and bytes per type and region, page relocation density, and what each object and symbol retains')
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
        'pdmp;help;stats' {
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

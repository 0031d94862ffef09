/** Entry point of the `rollback-bot` command: `validate [PATH]`, `schema [FILE]`, `demo`. */
const [command = 'help'] = process.argv.slice(2);
process.stdout.write(`rollback-bot: ${command} is not implemented yet\n`);
process.exitCode = command === 'help' ? 0 : 1;

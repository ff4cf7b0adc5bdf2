/** Baseline child for the round-trip benchmark: answers every IPC message with itself. */
process.on('message', (message) => process.send!(message));
process.on('disconnect', () => process.exit(0));

"""The store's rules, written once and run by both the tablet and central.

Pure: no I/O, no clock. Time (`now`) and ids are arguments; functions return
values (new state, movements, follow-up tasks, messages), never raise for an
ordinary situation such as a wrong scan.
"""

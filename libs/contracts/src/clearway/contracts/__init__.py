"""Clearway contracts: event and command schemas, the topic catalogue and the CloudEvents codec.

Pure data: nothing here performs I/O, so any service, test or tool can import it freely.
"""

from django.core.management.base import BaseCommand

from webapp.studio import services


class Command(BaseCommand):
    help = "Queue again the work of running experiments and half-prepared datasets (after a restart)."

    def add_arguments(self, parser):
        parser.add_argument("--worker", help="node name of a worker that died: its claimed candidates go back to the queue")

    def handle(self, *args, worker=None, **options):
        ids = services.recover(worker)
        self.stdout.write(f"advancing {len(ids)} experiment(s): {', '.join(map(str, ids)) or '-'}")

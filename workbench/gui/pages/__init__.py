"""The window's pages, one per stage of the work: Data, Model, Train, (Evaluate, Diagnose), Runs,
Sweeps, (Export).

Adding a page (see also README, "How it is built"):

    window.add_page("evaluate", "Evaluate", EvaluatePage(window.session),
                    tip="Confusion matrix, per-class metrics and errors of a run")

in `MainWindow._build_pages` (or from any code holding the window). The key fixes the page's
place in the rail (STAGE_ORDER; add a new key there), the icon is resources/icons/page-<key>.svg
and the shortcut Ctrl+<position> unless given. A page may be a function that builds the widget
the first time it is shown. Pages for features not built yet are simply not added.
"""

from workbench.gui.pages.adaptive import AdaptivePage
from workbench.gui.pages.data import DataPage
from workbench.gui.pages.export import ExportPage
from workbench.gui.pages.host import STAGE_ORDER, Page, PageHost
from workbench.gui.pages.model import ModelPage
from workbench.gui.pages.runs import RunsPage
from workbench.gui.pages.train import TrainPage

__all__ = ["STAGE_ORDER", "AdaptivePage", "DataPage", "ExportPage", "ModelPage", "Page", "PageHost", "RunsPage",
           "TrainPage"]

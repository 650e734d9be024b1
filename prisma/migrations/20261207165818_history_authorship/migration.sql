-- CreateTable
CREATE TABLE "HistoryAuthor" (
    "documentName" TEXT NOT NULL,
    "clientId" BIGINT NOT NULL,
    "projectId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "userId" TEXT,
    "model" TEXT,
    "provider" TEXT,
    "requestedBy" TEXT,
    "approvedBy" TEXT,
    "suggestionId" TEXT,
    "agentRunId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HistoryAuthor_pkey" PRIMARY KEY ("documentName","clientId")
);

-- CreateTable
CREATE TABLE "HistorySpan" (
    "documentName" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "clientId" BIGINT NOT NULL,
    "clockKey" INTEGER NOT NULL,
    "clockFrom" INTEGER NOT NULL,
    "clockTo" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "byUserId" TEXT,
    "byClientId" BIGINT,
    "projectId" TEXT NOT NULL,

    CONSTRAINT "HistorySpan_pkey" PRIMARY KEY ("documentName","kind","clientId","clockKey")
);

-- CreateIndex
CREATE INDEX "HistoryAuthor_projectId_idx" ON "HistoryAuthor"("projectId");

-- CreateIndex
CREATE INDEX "HistorySpan_projectId_idx" ON "HistorySpan"("projectId");

-- AddForeignKey
ALTER TABLE "HistoryAuthor" ADD CONSTRAINT "HistoryAuthor_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HistorySpan" ADD CONSTRAINT "HistorySpan_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
